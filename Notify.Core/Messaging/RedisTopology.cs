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

    /// <summary>
    /// On a Redis Cluster, whether the primary that owns <paramref name="name"/>'s slot (in the client's slot map)
    /// is connected; elsewhere true. (The client's own <c>IsConnected(key)</c> answers for any node it would
    /// fall back to, not for the owner.)
    /// </summary>
    public static bool SlotOwnerConnected(this IConnectionMultiplexer redis, string name)
    {
        var slot = redis.HashSlot(name);
        foreach (var server in redis.GetServers())
        {
            if (server.IsConnected && server.ServerType == ServerType.Cluster && server.ClusterConfiguration?.GetBySlot(slot) is { EndPoint: { } owner })
            {
                try
                {
                    return redis.GetServer(owner).IsConnected;
                }
                catch (ArgumentException)
                {
                    // A node the slot map names but the client has not added yet: let the publish find out.
                    return true;
                }
            }
        }
        return true;
    }
}
