using System.Globalization;
using Microsoft.Net.Http.Headers;
using Notify.Realtime.Connections;
using Notify.Realtime.Sessions;

namespace Notify.Realtime.Transports;

/// <summary>What both HTTP transports read from a stream request, and their answers to one they cannot take before it started.</summary>
internal static class HttpStreamRequest
{
    /// <summary>How long a client refused by a full instance is asked to wait (<c>Retry-After</c>, seconds).</summary>
    public const int InstanceFullRetryAfterSeconds = 5;

    /// <summary>
    /// The request's token (<c>?token=</c> for browsers, or the Authorization header) and resume cursor
    /// (<c>Last-Event-ID</c> header for SSE, or <c>?last_id=</c>).
    /// </summary>
    public static StreamRequest Read(HttpContext context, StreamKind kind, string? resourceId) =>
        new(kind, resourceId, Token(context), LastId(context), context.RequestAborted);

    /// <summary>
    /// Answers a stream request the instance has no room for (<c>Realtime:MaxConnections</c>): 503 with
    /// <c>Retry-After</c>, before any upgrade, so a balancer or the client tries again elsewhere or later.
    /// </summary>
    public static Task RefuseInstanceFullAsync(HttpContext context)
    {
        context.Response.Headers.RetryAfter = InstanceFullRetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return TypedResults.Problem("This instance holds its maximum of streams (Realtime:MaxConnections); retry later.", statusCode: StatusCodes.Status503ServiceUnavailable).ExecuteAsync(context);
    }

    /// <summary>Answers a stream request whose setup failed before the stream started (e.g. Redis unreachable): 503, unless the response has begun.</summary>
    public static Task RefuseSetupFailedAsync(HttpContext context) =>
        context.Response.HasStarted || context.RequestAborted.IsCancellationRequested
            ? Task.CompletedTask
            : TypedResults.Problem("The stream could not be set up; retry later.", statusCode: StatusCodes.Status503ServiceUnavailable).ExecuteAsync(context);

    private static string? Token(HttpContext context)
    {
        string? token = context.Request.Query["token"];
        if (!string.IsNullOrEmpty(token))
        {
            return token;
        }
        var header = context.Request.Headers[HeaderNames.Authorization].ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
    }

    private static string? LastId(HttpContext context)
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
