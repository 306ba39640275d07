using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Notify.Api.Auth;

namespace Notify.Api;

/// <summary>
/// Per-caller limits on creates: each user token and each API key gets its own fixed window
/// (<see cref="ApiOptions.UserCreatesPerWindow"/>, <see cref="ApiOptions.ApiKeyCreatesPerWindow"/>).
/// Rejections are 429 problem details with <c>Retry-After</c> in whole seconds.
/// </summary>
internal static class RateLimits
{
    public const string CreatesPolicy = "creates";

    public static IServiceCollection AddCreateRateLimits(this IServiceCollection services)
    {
        services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(CreatesPolicy, context =>
            {
                var options = context.RequestServices.GetRequiredService<IOptions<ApiOptions>>().Value;
                var partition = context.User.PublisherKey();
                var permits = context.User.IsService() ? options.ApiKeyCreatesPerWindow : options.UserCreatesPerWindow;
                return RateLimitPartition.GetFixedWindowLimiter(partition, _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = permits,
                    Window = options.RateLimitWindow,
                    QueueLimit = options.RateLimitQueue,
                    QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                    AutoReplenishment = true,
                });
            });
            limiter.OnRejected = async (context, cancellationToken) =>
            {
                var http = context.HttpContext;
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait)
                    ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds))
                    : Math.Max(1, (int)Math.Ceiling(http.RequestServices.GetRequiredService<IOptions<ApiOptions>>().Value.RateLimitWindow.TotalSeconds));
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
                        Detail = $"Create rate limit reached; retry after {retryAfter} s.",
                    },
                });
            };
        });
        return services;
    }
}
