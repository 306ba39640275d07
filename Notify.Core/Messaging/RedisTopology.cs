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
    /// The client's slot map of a Redis Cluster, as the first connected cluster node reported it; null when the
    /// multiplexer is not connected to a cluster (or to nothing yet).
    /// </summary>
    public static ClusterConfiguration? SlotMap(this IConnectionMultiplexer redis)
    {
        foreach (var server in redis.GetServers())
        {
            if (server.IsConnected && server.ServerType == ServerType.Cluster && server.ClusterConfiguration is { } slots)
            {
                return slots;
            }
        }
        return null;
    }

    /// <summary>
    /// The connected primary that holds <paramref name="key"/>: on a Redis Cluster the owner of its slot (in the
    /// client's slot map), elsewhere the primary the client writes to; null when the client knows none that is
    /// connected.
    /// </summary>
    public static IServer? PrimaryFor(this IConnectionMultiplexer redis, RedisKey key)
    {
        if (redis.SlotMap() is { } slots)
        {
            if (slots.GetBySlot(redis.HashSlot(key)) is not { EndPoint: { } owner })
            {
                return null;
            }
            try
            {
                return redis.GetServer(owner) is { IsConnected: true } primary ? primary : null;
            }
            catch (ArgumentException)
            {
                // A node the slot map names but the client has not added yet.
                return null;
            }
        }
        foreach (var server in redis.GetServers())
        {
            if (server.IsConnected && server.ServerType != ServerType.Cluster && !server.IsReplica)
            {
                return server;
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
        if (redis.SlotMap()?.GetBySlot(redis.HashSlot(name)) is not { EndPoint: { } owner })
        {
            return true;
        }
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
