using Microsoft.Net.Http.Headers;
using Notify.Core.Auth;

namespace Notify.Realtime.Transports;

/// <summary>Validates the token of a stream request: <c>?token=</c> (browsers) or the Authorization header.</summary>
internal static class StreamAuth
{
    public sealed record Identity(string UserId, bool IsAdmin, DateTimeOffset? ExpiresAt);

    public static async Task<(Identity? Identity, string? Error)> AuthenticateAsync(HttpContext context, NotifyTokens tokens)
    {
        string? token = context.Request.Query["token"];
        if (string.IsNullOrEmpty(token))
        {
            var header = context.Request.Headers[HeaderNames.Authorization].ToString();
            if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                token = header["Bearer ".Length..].Trim();
            }
        }
        var (principal, expiresAt, error) = await tokens.ValidateAsync(token);
        if (principal?.GetUserId() is not { Length: > 0 } userId)
        {
            return (null, error ?? "token has no subject");
        }
        return (new Identity(userId, principal.IsAdmin(), expiresAt), null);
    }

    /// <summary>How long a client refused by a full instance is asked to wait (<c>Retry-After</c>, seconds).</summary>
    public const int InstanceFullRetryAfterSeconds = 5;

    /// <summary>
    /// Answers a stream request the instance has no room for (<c>Realtime:MaxConnections</c>): 503 with
    /// <c>Retry-After</c>, before any upgrade, so a balancer or the client tries again elsewhere or later.
    /// </summary>
    public static async Task RefuseInstanceFullAsync(HttpContext context, int limit, ILogger logger)
    {
        RealtimeLog.InstanceFull(logger, limit);
        context.Response.Headers.RetryAfter = InstanceFullRetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await TypedResults.Problem("This instance holds its maximum of streams (Realtime:MaxConnections); retry later.", statusCode: StatusCodes.Status503ServiceUnavailable).ExecuteAsync(context);
    }

    /// <summary>The last seen notification id: <c>Last-Event-ID</c> header (SSE) or <c>?last_id=</c>.</summary>
    public static string? LastId(HttpContext context)
    {
        var header = context.Request.Headers["Last-Event-ID"].ToString();
        if (!string.IsNullOrWhiteSpace(header))
        {
            return header.Trim();
        }
        string? query = context.Request.Query["last_id"];
        return string.IsNullOrWhiteSpace(query) ? null : query.Trim();
    }
}
