using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Notify.Core.Tasks;

namespace Notify.Api.Apis;

/// <summary>
/// The answers of <see cref="TasksApi"/> that are not a task: the limits it enforces (each problem names
/// the field, the configuration key in <c>limit</c> and its value in <c>max</c>), malformed ids, and
/// streams asked of a JSON route.
/// </summary>
internal static class TaskProblems
{
    /// <summary>The serialized size of <paramref name="value"/> when it is over the limit, else null.</summary>
    public static int? TooLarge(JsonElement? value, QueueOptions o) =>
        value is { } v && Encoding.UTF8.GetByteCount(v.GetRawText()) is var size && size > o.MaxParamsBytes ? size : null;

    /// <summary>413 for a <c>params</c> (or batch item) over <see cref="QueueOptions.MaxParamsBytes"/>.</summary>
    public static ProblemHttpResult ParamsTooLarge(string field, int size, QueueOptions o) =>
        Limit(StatusCodes.Status413PayloadTooLarge, field, "Queue:MaxParamsBytes", o.MaxParamsBytes,
            $"{field} is {size} bytes serialized; at most {o.MaxParamsBytes} (Queue:MaxParamsBytes).");

    /// <summary>
    /// 429 (the caller's own cap on waiting tasks) or 503 (the whole queue's), both with <c>Retry-After</c>:
    /// waiting tasks drain as they run, so trying again after a rate-limit window is reasonable.
    /// </summary>
    public static ProblemHttpResult Full(QueueFullException full, QueueOptions o, ApiOptions api, HttpResponse response)
    {
        response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(api.RateLimitWindow.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        var (status, limit, max) = full.IsUserCap
            ? (StatusCodes.Status429TooManyRequests, "Queue:MaxQueuedPerUser", o.MaxQueuedPerUser)
            : (StatusCodes.Status503ServiceUnavailable, "Queue:MaxQueuedTotal", o.MaxQueuedTotal);
        return TypedResults.Problem(statusCode: status, title: ReasonPhrases.GetReasonPhrase(status), detail: full.Message,
            extensions: new Dictionary<string, object?> { ["limit"] = limit, ["max"] = max });
    }

    /// <summary>A problem naming the field and the configuration key of the limit it went over.</summary>
    public static ProblemHttpResult Limit(int status, string field, string limit, long max, string detail) =>
        TypedResults.Problem(statusCode: status, title: ReasonPhrases.GetReasonPhrase(status), detail: detail,
            extensions: new Dictionary<string, object?>
            {
                ["limit"] = limit,
                ["max"] = max,
                ["errors"] = new Dictionary<string, string[]> { [field] = [detail] },
            });

    /// <summary>An <c>Accept</c> that takes an event stream and no JSON (an EventSource, a streaming client).</summary>
    public static bool WantsOnlyEventStream(HttpRequest request)
    {
        var accept = request.GetTypedHeaders().Accept;
        return accept.Any(a => a.MediaType.Equals("text/event-stream", StringComparison.OrdinalIgnoreCase))
            && !accept.Any(a => a.MediaType.Value is { } type && (type.Contains("json", StringComparison.OrdinalIgnoreCase) || type.StartsWith("*/", StringComparison.Ordinal)));
    }

    /// <summary>
    /// 406: this route answers JSON only; the live stream is a Realtime route (the same path prefix
    /// behind one origin), named in <c>stream</c>.
    /// </summary>
    public static ProblemHttpResult StreamElsewhere(string path) =>
        TypedResults.Problem(statusCode: StatusCodes.Status406NotAcceptable, title: "Not Acceptable",
            detail: $"This route answers application/json only; the live event stream is {path} (Realtime service).",
            extensions: new Dictionary<string, object?> { ["stream"] = path });

    /// <summary>400 naming <c>id</c>: it cannot be a task or batch id (26 lowercase characters of a ULID).</summary>
    public static ProblemHttpResult MalformedId(string what)
    {
        var message = $"is not a {what.ToLowerInvariant()} id (26 lowercase characters, as returned on create).";
        return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Bad Request", detail: $"{what} id {message}",
            extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { ["id"] = [message] } });
    }
}
