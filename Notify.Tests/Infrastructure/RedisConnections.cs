using StackExchange.Redis;

namespace Notify.Tests.Infrastructure;

/// <summary>Connections a test opens to a <see cref="RedisServer"/> or <see cref="RedisCluster"/>, each one a separate "instance", all closed on dispose.</summary>
public sealed class RedisConnections(IRedisEndpoint server) : IAsyncDisposable
{
    private readonly List<ConnectionMultiplexer> _open = [];

    /// <summary>A new connection, closed with the others.</summary>
    public async Task<ConnectionMultiplexer> OpenAsync()
    {
        var connection = await server.ConnectAsync();
        _open.Add(connection);
        return connection;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in _open)
        {
            await connection.DisposeAsync();
        }
    }
}
