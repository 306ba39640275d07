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
