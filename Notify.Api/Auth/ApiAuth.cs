using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Notify.Core.Auth;

namespace Notify.Api.Auth;

/// <summary>Authentication schemes and policies of the Api: JWT users, <c>X-Api-Key</c> services, admins.</summary>
internal static class ApiAuth
{
    /// <summary>The header service callers put their key in.</summary>
    public const string ApiKeyHeader = "X-Api-Key";

    /// <summary>Scheme name of <see cref="ApiKeyAuthenticationHandler"/>.</summary>
    public const string ApiKeyScheme = "ApiKey";

    /// <summary>The default scheme: API key when the header is present, JWT bearer otherwise.</summary>
    public const string SelectorScheme = "NotifyApi";

    /// <summary>Claim carrying the configured name of the API key that authenticated the caller.</summary>
    public const string ApiKeyNameClaim = "api_key";

    /// <summary>A service principal's <c>sub</c> is this prefix plus the key name; never a user's inbox.</summary>
    public const string ServicePrefix = "service:";

    /// <summary>Users with a JWT (their own inbox).</summary>
    public const string UserPolicy = "user";

    /// <summary>Callers that may create notifications and broadcasts: admins and API keys.</summary>
    public const string PublisherPolicy = "publisher";

    /// <summary>
    /// Adds the Api's schemes on top of <see cref="NotifyAuthExtensions.AddNotifyAuthentication"/>:
    /// the API-key scheme, a selector that picks it when <c>X-Api-Key</c> is sent, and the policies.
    /// </summary>
    public static IHostApplicationBuilder AddApiAuthentication(this IHostApplicationBuilder builder)
    {
        builder.AddNotifyAuthentication();
        builder.Services
            .AddAuthentication(o =>
            {
                o.DefaultScheme = SelectorScheme;
                o.DefaultChallengeScheme = SelectorScheme;
                o.DefaultForbidScheme = SelectorScheme;
            })
            .AddPolicyScheme(SelectorScheme, "JWT bearer or API key", o => o.ForwardDefaultSelector = context =>
                context.Request.Headers.ContainsKey(ApiKeyHeader) ? ApiKeyScheme : JwtBearerDefaults.AuthenticationScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyScheme, null);

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(UserPolicy, p => p
                .AddAuthenticationSchemes(JwtBearerDefaults.AuthenticationScheme)
                .RequireAuthenticatedUser()
                .RequireClaim(NotifyRoles.UserIdClaim))
            .AddPolicy(PublisherPolicy, p => p
                .RequireAuthenticatedUser()
                .RequireAssertion(c => c.User.IsAdmin() || c.User.IsService()));
        return builder;
    }

    /// <summary>Whether the caller authenticated with an API key.</summary>
    public static bool IsService(this ClaimsPrincipal principal) =>
        principal.Identity is { IsAuthenticated: true, AuthenticationType: ApiKeyScheme };

    /// <summary>The rate-limit partition of a publisher: its key name, or its user id.</summary>
    public static string PublisherKey(this ClaimsPrincipal principal) =>
        principal.IsService()
            ? "key:" + principal.FindFirstValue(ApiKeyNameClaim)
            : "user:" + principal.GetUserId();
}
