using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace Aspire.Hosting;

/// <summary>
/// Health of the local Sentinel set: healthy once a failover would work, not only once the primary answers.
/// Sentinels learn the replicas from the primary's <c>INFO</c> (every 10 s) and each other from hello
/// messages through it (every 2 s); a primary stopped before they have would never be replaced. So every
/// Sentinel must know <paramref name="replicas"/> replicas and the other Sentinels, and a client following
/// the sentinel protocol must reach the primary.
/// </summary>
internal sealed class RedisSentinelSetHealthCheck(Func<string?> connectionString, int replicas, int sentinels) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (connectionString() is not { } value)
        {
            return HealthCheckResult.Unhealthy("The connection string is not available yet.");
        }
        var options = ConfigurationOptions.Parse(value);
        try
        {
            foreach (var endpoint in options.EndPoints)
            {
                await using var sentinel = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
                {
                    EndPoints = { endpoint },
                    Password = options.Password,
                    CommandMap = CommandMap.Sentinel,
                    ConnectTimeout = 2000,
                    AbortOnConnectFail = true,
                });
                var flat = (RedisResult[]?)await sentinel.GetServer(endpoint).ExecuteAsync("SENTINEL", "MASTER", options.ServiceName!).WaitAsync(cancellationToken);
                var fields = new Dictionary<string, string?>(StringComparer.Ordinal);
                for (var i = 0; flat is not null && i + 1 < flat.Length; i += 2)
                {
                    fields[(string)flat[i]!] = (string?)flat[i + 1];
                }
                var knownReplicas = fields.GetValueOrDefault("num-slaves");
                var knownSentinels = fields.GetValueOrDefault("num-other-sentinels");
                if (knownReplicas != replicas.ToString(CultureInfo.InvariantCulture)
                    || knownSentinels != (sentinels - 1).ToString(CultureInfo.InvariantCulture))
                {
                    return HealthCheckResult.Unhealthy($"Sentinel {endpoint} knows {knownReplicas ?? "0"} of {replicas} replicas and {knownSentinels ?? "0"} of {sentinels - 1} other Sentinels; a failover could not run yet.");
                }
            }
            await using var redis = await ConnectionMultiplexer.ConnectAsync(options);
            await redis.GetDatabase().PingAsync().WaitAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy("The Sentinel set is not reachable yet.", ex);
        }
    }
}
