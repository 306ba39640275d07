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

    /// <summary>The problem detail of the 503 a full instance answers.</summary>
    public const string InstanceFullDetail = "This instance holds its maximum of streams (Realtime:MaxConnections); retry later.";

    /// <summary>The problem detail of the 503 a stream whose setup failed is answered with.</summary>
    public const string SetupFailedDetail = "The stream could not be set up; retry later.";

    /// <summary>
    /// The request's token (<c>?token=</c> for browsers, or the Authorization header) and resume cursor
    /// (<c>Last-Event-ID</c> header for SSE, or <c>?last_id=</c>).
    /// </summary>
    public static StreamRequest Read(HttpContext context, StreamKind kind, string? resourceId) =>
        new(kind, resourceId,
            Token(context.Request.Query["token"], context.Request.Headers[HeaderNames.Authorization].ToString()),
            LastId(context.Request.Headers["Last-Event-ID"].ToString(), context.Request.Query["last_id"]),
            context.RequestAborted);

    /// <summary>
    /// Answers a stream request the instance has no room for (<c>Realtime:MaxConnections</c>): 503 with
    /// <c>Retry-After</c>, before any upgrade, so a balancer or the client tries again elsewhere or later.
    /// </summary>
    public static Task RefuseInstanceFullAsync(HttpContext context)
    {
        context.Response.Headers.RetryAfter = InstanceFullRetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return TypedResults.Problem(InstanceFullDetail, statusCode: StatusCodes.Status503ServiceUnavailable).ExecuteAsync(context);
    }

    /// <summary>Answers a stream request whose setup failed before the stream started (e.g. Redis unreachable): 503, unless the response has begun.</summary>
    public static Task RefuseSetupFailedAsync(HttpContext context) =>
        context.Response.HasStarted || context.RequestAborted.IsCancellationRequested
            ? Task.CompletedTask
            : TypedResults.Problem(SetupFailedDetail, statusCode: StatusCodes.Status503ServiceUnavailable).ExecuteAsync(context);

    /// <summary>The token: the decoded <c>token</c> query value when there is one, else a <c>Bearer</c> Authorization header's.</summary>
    public static string? Token(string? query, string authorization)
    {
        if (!string.IsNullOrEmpty(query))
        {
            return query;
        }
        return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization["Bearer ".Length..].Trim() : null;
    }

    /// <summary>The resume cursor: the <c>Last-Event-ID</c> header when it has one, else the decoded <c>last_id</c> query value.</summary>
    public static string? LastId(string header, string? query)
    {
        if (!string.IsNullOrWhiteSpace(header))
        {
            return header.Trim();
        }
        return string.IsNullOrWhiteSpace(query) ? null : query.Trim();
    }
}
