using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Notify.Api.Auth;
using Notify.Core.Auth;

namespace Notify.Api;

/// <summary>
/// Per-caller limits: on notification creates each user token and each API key gets its own fixed window
/// (<see cref="ApiOptions.UserCreatesPerWindow"/>, <see cref="ApiOptions.ApiKeyCreatesPerWindow"/>); on
/// task and batch creates each user (<see cref="ApiOptions.UserTaskCreatesPerWindow"/>). Rejections are
/// 429 problem details naming the limit, with <c>Retry-After</c> in whole seconds.
/// </summary>
internal static class RateLimits
{
    public const string CreatesPolicy = "creates";

    public const string TaskCreatesPolicy = "task-creates";

    public static IServiceCollection AddCreateRateLimits(this IServiceCollection services)
    {
        services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(CreatesPolicy, context =>
            {
                var options = context.RequestServices.GetRequiredService<IOptions<ApiOptions>>().Value;
                var permits = context.User.IsService() ? options.ApiKeyCreatesPerWindow : options.UserCreatesPerWindow;
                return Window(context.User.PublisherKey(), permits, options);
            });
            limiter.AddPolicy(TaskCreatesPolicy, context =>
            {
                var options = context.RequestServices.GetRequiredService<IOptions<ApiOptions>>().Value;
                return Window("tasks:" + context.User.GetUserId(), options.UserTaskCreatesPerWindow, options);
            });
            limiter.OnRejected = async (context, cancellationToken) =>
            {
                var http = context.HttpContext;
                var options = http.RequestServices.GetRequiredService<IOptions<ApiOptions>>().Value;
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait)
                    ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds))
                    : Math.Max(1, (int)Math.Ceiling(options.RateLimitWindow.TotalSeconds));
                var tasks = http.GetEndpoint()?.Metadata.GetMetadata<EnableRateLimitingAttribute>()?.PolicyName == TaskCreatesPolicy;
                var (limit, max) = tasks ? ("Api:UserTaskCreatesPerWindow", options.UserTaskCreatesPerWindow)
                    : http.User.IsService() ? ("Api:ApiKeyCreatesPerWindow", options.ApiKeyCreatesPerWindow)
                    : ("Api:UserCreatesPerWindow", options.UserCreatesPerWindow);
                http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                http.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
                ApiLog.RateLimited(http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RateLimits)), http.User.PublisherKey(), http.Request.Path);
                await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = http,
                    ProblemDetails =
                    {
                        Status = StatusCodes.Status429TooManyRequests,
                        Title = "Too Many Requests",
                        Detail = $"{(tasks ? "Task create" : "Create")} rate limit reached ({limit} = {max} per {options.RateLimitWindow.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s); retry after {retryAfter} s.",
                        Extensions = { ["limit"] = limit, ["max"] = max },
                    },
                });
            };
        });
        return services;
    }

    private static RateLimitPartition<string> Window(string partition, int permits, ApiOptions options) =>
        RateLimitPartition.GetFixedWindowLimiter(partition, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = permits,
            Window = options.RateLimitWindow,
            QueueLimit = options.RateLimitQueue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
}
