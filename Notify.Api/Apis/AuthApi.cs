using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Notify.Api.Notifications;
using Notify.Core.Auth;
using Notify.Core.Notifications;

namespace Notify.Api.Apis;

/// <summary><c>POST /api/auth/dev-token</c>: signed tokens for local runs and tests, mapped only when <c>Auth:EnableDevTokens=true</c>.</summary>
internal static partial class AuthApi
{
    /// <summary>Request of a dev token.</summary>
    public sealed record DevTokenRequest
    {
        /// <summary>The token's <c>sub</c> (required, ≤ 128 characters).</summary>
        public string? UserId { get; init; }
        /// <summary>Role claims, e.g. <c>["admin"]</c>.</summary>
        public string[]? Roles { get; init; }
        /// <summary>Lifetime in seconds, 1..<c>Auth:DevTokenMaxLifetime</c>. Default 3,600.</summary>
        public int? TtlSeconds { get; init; }
    }

    /// <summary>A signed token and when it expires.</summary>
    public sealed record DevTokenResponse(string Token, DateTimeOffset ExpiresAt);

    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        // Not mapped at all when disabled: the route is then an ordinary 404, indistinguishable from absent.
        if (!app.ServiceProvider.GetRequiredService<IOptions<AuthOptions>>().Value.EnableDevTokens)
        {
            return app;
        }
        app.MapGroup("/api/auth")
            .WithTags("Auth")
            .AllowAnonymous()
            .MapPost("/dev-token", IssueDevToken)
            .WithName("IssueDevToken")
            .WithSummary("Issues a signed HS256 token (only when Auth:EnableDevTokens is true)")
            .DisableRateLimiting();
        return app;
    }

    public static Results<Ok<DevTokenResponse>, ValidationProblem> IssueDevToken(
        DevTokenRequest request, NotifyTokens tokens, IOptions<AuthOptions> options, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var max = options.Value.DevTokenMaxLifetime;
        var ttl = request.TtlSeconds ?? 3_600;
        if (string.IsNullOrWhiteSpace(request.UserId) || request.UserId.Length > NotificationValidator.UserIdMaxLength
            || request.UserId.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            errors["user_id"] = [$"is required: 1 to {NotificationValidator.UserIdMaxLength} characters without whitespace."];
        }
        if (ttl < 1 || ttl > max.TotalSeconds)
        {
            errors["ttl_seconds"] = [$"must be between 1 and {(long)max.TotalSeconds}."];
        }
        var roles = request.Roles ?? [];
        if (roles.Length > 16 || roles.Any(r => r is null || r.Length > 64 || r.EndsWith('\n') || !RoleRegex().IsMatch(r)))
        {
            errors["roles"] = [$"at most 16 roles, each matching {NotificationLimits.TokenPattern} and at most 64 characters."];
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var (token, expiresAt) = tokens.Issue(request.UserId!, roles, TimeSpan.FromSeconds(ttl));
        ApiLog.DevTokenIssued(loggers.CreateLogger(typeof(AuthApi)), request.UserId!);
        return TypedResults.Ok(new DevTokenResponse(token, expiresAt));
    }

    [GeneratedRegex(NotificationLimits.TokenPattern)]
    private static partial Regex RoleRegex();
}
