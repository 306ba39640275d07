namespace Notify.Realtime;

internal static class Extensions
{
    /// <summary>Everything the Realtime service needs besides the service defaults.</summary>
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddRedisClient("redis");
    }
}
