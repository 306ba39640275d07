using System.Security.Claims;
using Hangfire.Dashboard;
using Microsoft.Net.Http.Headers;
using Notify.Core.Auth;

namespace Notify.Worker.Dashboard;

/// <summary>
/// Admits only a valid Notify JWT with the admin role to the Hangfire dashboard, in every environment.
/// The token comes from <c>Authorization: Bearer</c> or from the dashboard cookie that
/// <see cref="DashboardTokenMiddleware"/> sets from a <c>?token=</c> link. Hangfire answers a refused
/// request with 401 when no valid token was given and 403 when the user is not an admin.
/// </summary>
internal sealed class AdminDashboardAuthorizationFilter(NotifyTokens tokens) : IDashboardAsyncAuthorizationFilter
{
    public async Task<bool> AuthorizeAsync(DashboardContext context)
    {
        var http = context.GetHttpContext();
        var (principal, _, _) = await tokens.ValidateAsync(FindToken(http.Request));
        if (principal is null)
        {
            http.User = new ClaimsPrincipal(new ClaimsIdentity());
            return false;
        }
        http.User = principal;
        return principal.IsAdmin();
    }

    private static string? FindToken(HttpRequest request)
    {
        var header = request.Headers[HeaderNames.Authorization].ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return header["Bearer ".Length..].Trim();
        }
        return request.Cookies.TryGetValue(DashboardTokenMiddleware.CookieName, out var cookie) ? cookie : null;
    }
}
