using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace Notify.Core.Messaging;

/// <summary>
/// Refuses to start a service whose Redis (<c>ConnectionStrings:redis</c>) is a Redis Cluster that does not
/// serve every slot (<c>cluster_state</c> not <c>ok</c>): some users' notifications, channels or the task queue
/// would fail at random instead of at boot. A Redis that cannot be reached at start is left to the outage
/// handling (the services start and wait for it); a single node passes.
/// </summary>
public sealed class RedisClusterCheck(IConnectionMultiplexer redis) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var server in redis.GetServers())
        {
            if (!server.IsConnected || server.ServerType != ServerType.Cluster || server.IsReplica)
            {
                continue;
            }
            string info;
            try
            {
                info = ((string?)await server.ExecuteAsync("CLUSTER", "INFO").WaitAsync(cancellationToken)) ?? "";
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                continue;
            }
            if (Field(info, "cluster_state") is { } state && state != "ok")
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"ConnectionStrings:redis names a Redis Cluster that does not serve every slot (cluster_state:{state}, cluster_slots_assigned:{Field(info, "cluster_slots_assigned") ?? "?"} of 16384, asked {server.EndPoint}); assign the missing slots (redis-cli --cluster fix) and start again."));
            }
            return;
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static string? Field(string info, string name)
    {
        foreach (var line in info.Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line.AsSpan(0, colon).SequenceEqual(name))
            {
                return line[(colon + 1)..].Trim();
            }
        }
        return null;
    }
}

/// <summary>Registration of <see cref="RedisClusterCheck"/>.</summary>
public static class RedisClusterCheckExtensions
{
    /// <summary>Adds the start-up check that a Redis Cluster behind <c>ConnectionStrings:redis</c> serves every slot; add it right after the Redis client.</summary>
    public static IServiceCollection AddRedisClusterCheck(this IServiceCollection services)
    {
        services.AddHostedService<RedisClusterCheck>();
        return services;
    }
}
