using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The start-up check of a sentinel connection string (<c>host:26379,...,serviceName=name</c>): a service
/// name that no Sentinel monitors is a configuration mistake, not an outage, and a service started with it
/// would only fail later with a message that names no key. Sentinels that do not answer at all are an
/// outage, not proof of a wrong name: this check lets the start go on (StackExchange.Redis then fails to
/// find a primary, and the host stops with its exception).
/// </summary>
public static class RedisSentinelCheck
{
    /// <summary>The configuration key of the Redis connection string, as the error names it.</summary>
    public const string Key = "ConnectionStrings:redis";

    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// When <c>ConnectionStrings:redis</c> names a Sentinel service that none of the answering Sentinels
    /// monitors, writes one line naming the key and returns true (the caller exits); otherwise false.
    /// </summary>
    public static bool RefusesUnknownSentinelService(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var connectionString = builder.Configuration.GetConnectionString("redis") ?? builder.Configuration["Aspire:StackExchange:Redis:ConnectionString"];
        if (string.IsNullOrWhiteSpace(connectionString) || Problem(connectionString) is not { } problem)
        {
            return false;
        }
        Console.Error.WriteLine($"Refusing to start: {Key} {problem}");
        return true;
    }

    /// <summary>
    /// With a sentinel connection string, <c>/health</c> asks whether the current primary answers instead of
    /// pinging every node the client knows: those include the replicas and, after a failover, the old primary,
    /// whose absence must not mark every service unhealthy. (Aspire's own Redis check is switched off then.)
    /// </summary>
    public static IHostApplicationBuilder AddRedisSentinelHealthCheck(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (ServiceNameOf(builder.Configuration) is null)
        {
            return builder;
        }
        builder.Configuration["Aspire:StackExchange:Redis:DisableHealthChecks"] = "true";
        builder.Services.AddHealthChecks().AddCheck<RedisPrimaryHealthCheck>("redis-primary");
        return builder;
    }

    private static string? ServiceNameOf(IConfiguration configuration) =>
        (configuration.GetConnectionString("redis") ?? configuration["Aspire:StackExchange:Redis:ConnectionString"]) is { Length: > 0 } connectionString
            ? ConfigurationOptions.Parse(connectionString, ignoreUnknown: true).ServiceName is { Length: > 0 } name ? name : null
            : null;

    /// <summary>What is wrong with the sentinel service of <paramref name="connectionString"/>, or null (not a sentinel string, the service is known, or no Sentinel answered).</summary>
    public static string? Problem(string connectionString)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        var options = ConfigurationOptions.Parse(connectionString, ignoreUnknown: true);
        if (options.ServiceName is not { Length: > 0 } serviceName)
        {
            return null;
        }
        var sentinels = options.EndPoints.ToList();
        options.ServiceName = null;
        options.CommandMap = CommandMap.Sentinel;
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = Math.Min(options.ConnectTimeout, (int)AskTimeout.TotalMilliseconds);
        options.ConnectRetry = 1;
        using var connection = ConnectionMultiplexer.SentinelConnect(options);
        var answered = new List<EndPoint>();
        foreach (var sentinel in sentinels)
        {
            try
            {
                if (connection.GetServer(sentinel).SentinelGetMasterAddressByName(serviceName) is not null)
                {
                    return null;
                }
                answered.Add(sentinel);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                // Down or refusing: an outage, not proof that the name is wrong.
            }
        }
        return answered.Count == 0
            ? null
            : $"names the Sentinel service '{serviceName}' (serviceName=), which none of the Sentinels that answered ({string.Join(", ", answered.Select(EndPointText))}) monitors; use the name of their 'sentinel monitor' line.";
    }

    private static string EndPointText(EndPoint endPoint) => endPoint switch
    {
        DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
        _ => endPoint.ToString() ?? "",
    };

    /// <summary>Healthy when the primary the Sentinels named answers a PING (never a replica in its place).</summary>
    private sealed class RedisPrimaryHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await redis.GetDatabase().PingAsync(CommandFlags.DemandMaster).WaitAsync(cancellationToken);
                return HealthCheckResult.Healthy();
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                return new HealthCheckResult(context.Registration.FailureStatus, "The Redis primary does not answer.", ex);
            }
        }
    }
}
