using StackExchange.Redis;

namespace Notify.Tests.Infrastructure;

/// <summary>A Redis a test talks to: one <see cref="RedisServer"/> or a <see cref="RedisCluster"/>.</summary>
public interface IRedisEndpoint
{
    /// <summary>StackExchange.Redis configuration string, as the services get it in <c>ConnectionStrings:redis</c>.</summary>
    string ConnectionString { get; }

    /// <summary>A new multiplexer (the caller disposes it).</summary>
    Task<ConnectionMultiplexer> ConnectAsync();
}
