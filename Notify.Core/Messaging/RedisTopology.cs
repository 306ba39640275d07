using StackExchange.Redis;

namespace Notify.Core.Messaging;

/// <summary>What kind of Redis deployment a multiplexer is connected to.</summary>
public static class RedisTopology
{
    /// <summary>
    /// Whether the multiplexer talks to a Redis Cluster, read from the first connected server; null while no
    /// server is connected (nothing is known yet).
    /// </summary>
    public static bool? IsCluster(this IConnectionMultiplexer redis)
    {
        foreach (var server in redis.GetServers())
        {
            if (server.IsConnected)
            {
                return server.ServerType == ServerType.Cluster;
            }
        }
        return null;
    }
}
