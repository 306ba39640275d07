using Microsoft.AspNetCore.Diagnostics;
using Notify.Core.Messaging;
using Notify.Core.Tasks;

namespace Notify.Api;

/// <summary>
/// Answers a request that failed because Redis (the task queue or the message bus) could not be reached, or
/// could not confirm a write, with 503 and <c>Retry-After</c>: nothing was accepted, and the same request can
/// be sent again once Redis is back (a failover takes seconds). Other failures stay 500.
/// </summary>
internal sealed class UnavailableExceptionHandler(IProblemDetailsService problems, ILogger<UnavailableExceptionHandler> logger) : IExceptionHandler
{
    /// <summary>Seconds a client is asked to wait before retrying.</summary>
    internal const int RetryAfterSeconds = 1;

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var (dependency, detail) = exception switch
        {
            TaskQueueUnavailableException => ("task queue", "The task queue is unreachable or could not confirm the write; nothing was changed. Retry later."),
            MessageBusUnavailableException => ("message bus", "The message bus is unreachable; nothing was published. Retry later."),
            _ => (null, null),
        };
        if (dependency is null || httpContext.Response.HasStarted)
        {
            return false;
        }
        ApiLog.DependencyUnavailable(logger, exception, httpContext.Request.Path, dependency);
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = new Microsoft.AspNetCore.Mvc.ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Service Unavailable",
                Detail = detail,
            },
            Exception = exception,
        });
    }
}
