using Microsoft.AspNetCore.Http.Extensions;
using Notify.Core.Auth;

namespace Notify.Worker.Dashboard;

/// <summary>
/// Lets an admin open the dashboard from a link (<c>/hangfire?token=JWT</c>, as the web UI builds it):
/// a valid token is moved into an HttpOnly, SameSite=Strict cookie scoped to the dashboard path and the
/// browser is redirected to the same URL without the token, so the dashboard's own links and requests
/// keep working and the token stays out of history and referrers. The cookie expires with the token.
/// An invalid token is 401. Role checks happen in <see cref="AdminDashboardAuthorizationFilter"/>.
/// </summary>
internal sealed class DashboardTokenMiddleware(RequestDelegate next, NotifyTokens tokens)
{
    public const string CookieName = "notify_dashboard";

    public async Task InvokeAsync(HttpContext context)
    {
        if (!context.Request.Query.TryGetValue("token", out var values))
        {
            await next(context);
            return;
        }
        var (principal, expiresAt, _) = await tokens.ValidateAsync(values.ToString());
        if (principal is null)
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return;
        }
        var path = context.Request.PathBase.Add(DashboardExtensions.Path);
        context.Response.Cookies.Append(CookieName, values.ToString(), new CookieOptions
        {
            HttpOnly = true,
            Secure = context.Request.IsHttps,
            SameSite = SameSiteMode.Strict,
            Path = path.Value,
            Expires = expiresAt,
            IsEssential = true,
        });
        var query = new QueryBuilder(context.Request.Query.Where(q => !string.Equals(q.Key, "token", StringComparison.OrdinalIgnoreCase)));
        context.Response.Redirect(context.Request.PathBase + context.Request.Path + query.ToQueryString());
    }
}
