namespace Notify.Worker;

internal static class Extensions
{
    /// <summary>Everything the Worker service needs besides the service defaults.</summary>
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddRedisClient("redis");
    }
}
