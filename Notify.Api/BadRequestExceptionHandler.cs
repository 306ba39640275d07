using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;

namespace Notify.Api;

/// <summary>
/// Turns request-binding failures (malformed JSON, a value of the wrong type, a missing body, an oversize
/// body) into problem details. A JSON error names the top-level field it occurred in, keyed like the
/// validation errors; an error that is not inside a field is keyed <c>body</c>.
/// </summary>
internal sealed partial class BadRequestExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad || httpContext.Response.HasStarted)
        {
            return false;
        }
        var status = bad.StatusCode;
        var problem = new HttpValidationProblemDetails
        {
            Status = status,
            Title = Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status),
            Detail = status switch
            {
                StatusCodes.Status413PayloadTooLarge => "The request body is larger than the limit.",
                StatusCodes.Status415UnsupportedMediaType => "The request body must be application/json.",
                _ => "The request could not be read.",
            },
        };
        if (bad.InnerException is JsonException json)
        {
            problem.Errors[FieldOf(json.Path)] = ["is not valid JSON or has the wrong type."];
        }
        else if (status == StatusCodes.Status400BadRequest)
        {
            // Binder messages name the parameter ("Failed to bind parameter \"Nullable<int> limit\" from \"x\"") and carry no secrets.
            problem.Detail = bad.Message;
            if (ParameterRegex().Match(bad.Message) is { Success: true } match)
            {
                problem.Errors[match.Groups["name"].Value] = ["is not a valid value."];
            }
        }
        httpContext.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = exception });
    }

    [GeneratedRegex("parameter \"(?:[^\"]* )?(?<name>[A-Za-z0-9_]+)\"")]
    private static partial Regex ParameterRegex();

    /// <summary><c>$.title</c> → <c>title</c>; <c>$.metadata.a[0]</c> → <c>metadata</c>; <c>$</c> or none → <c>body</c>.</summary>
    internal static string FieldOf(string? path)
    {
        if (string.IsNullOrEmpty(path) || !path.StartsWith("$.", StringComparison.Ordinal))
        {
            if (path is not null && path.StartsWith("$['", StringComparison.Ordinal))
            {
                var end = path.IndexOf('\'', 3);
                return end > 3 ? path[3..end] : "body";
            }
            return "body";
        }
        var rest = path.AsSpan(2);
        var stop = rest.IndexOfAny('.', '[');
        return (stop < 0 ? rest : rest[..stop]).ToString();
    }
}
