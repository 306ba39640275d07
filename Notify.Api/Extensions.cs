using Notify.Api.Apis;

namespace Notify.Api;

internal static class Extensions
{
    /// <summary>Everything the Api service needs besides the service defaults.</summary>
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddRedisClient("redis");
        // After the Api's own authentication: it adds the Notify JWT scheme only when none is registered yet.
        builder.AddTasksApi();
    }
}
