using System.Globalization;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace Aspire.Hosting;

public static class RedisClusterBuilderExtensions
{
    // Starts the nodes (configuration on standard input, so the password is on no command line), waits for
    // each to answer, creates the cluster, then waits; SIGTERM from DCP stops every node. A run starts from
    // empty nodes: cluster state from an earlier run would name other ports.
    private const string Script = """
        set -u
        server=$0; cli=$1; dir=$2; shift 2
        export REDISCLI_AUTH="$REDIS_PASSWORD"
        pids=""; nodes=""
        trap 'kill $pids 2>/dev/null; wait; exit 0' TERM INT
        rm -f "$dir"/nodes-*.conf "$dir"/dump-*.rdb
        while [ $# -ge 2 ]; do
          "$server" - <<EOF &
        port $1
        cluster-port $2
        bind 127.0.0.1
        cluster-enabled yes
        cluster-config-file $dir/nodes-$1.conf
        cluster-node-timeout 5000
        requirepass $REDIS_PASSWORD
        masterauth $REDIS_PASSWORD
        dir $dir
        dbfilename dump-$1.rdb
        save ""
        appendonly no
        EOF
          pids="$pids $!"; nodes="$nodes 127.0.0.1:$1"
          shift 2
        done
        for node in $nodes; do
          until "$cli" -h 127.0.0.1 -p "${node##*:}" ping >/dev/null 2>&1; do sleep 0.1; done
        done
        "$cli" --cluster create $nodes --cluster-replicas 1 --cluster-yes
        wait
        """;

    /// <summary>
    /// A local Redis Cluster of 3 primaries and 3 replicas from <c>redis-server</c> on PATH (run mode only), with a
    /// generated password and a health check that is healthy once every slot is served (<c>cluster_state:ok</c>),
    /// so <c>WaitFor(redis)</c> waits for the whole cluster. No data is kept across runs.
    /// </summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddRedisCluster(this IDistributedApplicationBuilder builder, [ResourceName] string name)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var redisServer = Prerequisites.RedisServer(builder.Configuration);
        var redisCli = Prerequisites.FindOnPath("redis-cli")
            ?? Path.Combine(Path.GetDirectoryName(redisServer) ?? "/usr/bin", "redis-cli");
        var dataDirectory = Directory.CreateDirectory(Path.Combine(LocalRun.DataDirectory(builder), name + "-cluster")).FullName;
        var password = ParameterResourceBuilderExtensions.CreateDefaultPasswordParameter(builder, $"{name}-password", special: false);
        var cluster = new RedisClusterResource(name, dataDirectory, password);

        string? connectionString = null;
        builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(cluster, async (_, ct) =>
            connectionString = await cluster.ConnectionStringExpression.GetValueAsync(ct).ConfigureAwait(false));
        var healthCheckKey = $"{name}_cluster_check";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            healthCheckKey,
            _ => new RedisClusterHealthCheck(() => connectionString ?? throw new InvalidOperationException($"The connection string of '{name}' is not available yet.")),
            failureStatus: null,
            tags: null));

        var resource = builder.AddResource(cluster);
        for (var i = 0; i < RedisClusterResource.Nodes; i++)
        {
            resource.WithEndpoint(name: "node" + i.ToString(CultureInfo.InvariantCulture), scheme: "tcp", isProxied: false)
                .WithEndpoint(name: "bus" + i.ToString(CultureInfo.InvariantCulture), scheme: "tcp", isProxied: false);
        }
        return resource
            .WithEnvironment("REDIS_PASSWORD", password)
            .WithArgs(context =>
            {
                context.Args.Add("-c");
                context.Args.Add(Script);
                context.Args.Add(redisServer);
                context.Args.Add(redisCli);
                context.Args.Add(dataDirectory);
                for (var i = 0; i < RedisClusterResource.Nodes; i++)
                {
                    context.Args.Add(cluster.Node(i).Property(EndpointProperty.TargetPort));
                    context.Args.Add(cluster.Bus(i).Property(EndpointProperty.TargetPort));
                }
            })
            .WithIconName("Database")
            .WithHealthCheck(healthCheckKey);
    }

    /// <summary>Healthy once the cluster serves every slot: each reachable primary reports <c>cluster_state:ok</c>.</summary>
    private sealed class RedisClusterHealthCheck(Func<string> connectionString) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await using var redis = await ConnectionMultiplexer.ConnectAsync(connectionString() + ",abortConnect=false,connectTimeout=2000").ConfigureAwait(false);
                var primaries = redis.GetServers().Where(s => s.IsConnected && !s.IsReplica).ToList();
                if (primaries.Count == 0)
                {
                    return HealthCheckResult.Unhealthy("No Redis Cluster node answers.");
                }
                foreach (var primary in primaries)
                {
                    var info = (string?)await primary.ExecuteAsync("CLUSTER", "INFO").WaitAsync(cancellationToken).ConfigureAwait(false) ?? "";
                    if (!info.Contains("cluster_state:ok", StringComparison.Ordinal))
                    {
                        return HealthCheckResult.Unhealthy($"{primary.EndPoint} does not report cluster_state:ok yet.");
                    }
                }
                return HealthCheckResult.Healthy();
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                return HealthCheckResult.Unhealthy(ex.Message, ex);
            }
        }
    }
}
