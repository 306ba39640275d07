namespace Notify.Api;

internal static class Extensions
{
    /// <summary>Everything the Api service needs besides the service defaults.</summary>
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddRedisClient("redis");
    }
}
