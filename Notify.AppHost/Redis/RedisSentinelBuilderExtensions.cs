using System.Globalization;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Aspire.Hosting;

/// <summary>
/// <c>AppHost:Redis:Mode=sentinel</c>: instead of one <c>redis-server</c>, a local Redis Sentinel set to try
/// failover with: a primary, two replicas and three Sentinels (quorum 2), each <c>redis-server</c> from PATH run
/// by DCP on a port it allocates, all behind one generated password. The services get the sentinel
/// connection string; killing the primary (its Stop command in the dashboard) promotes a replica within
/// seconds and the services follow. No data survives a run in this mode.
/// </summary>
public static class RedisSentinelBuilderExtensions
{
    /// <summary>How long a primary may be silent before a Sentinel considers it down.</summary>
    public static readonly TimeSpan DownAfter = TimeSpan.FromSeconds(2);

    /// <summary>Sentinel's failover timeout (a failed attempt is retried after twice this).</summary>
    public static readonly TimeSpan FailoverTimeout = TimeSpan.FromSeconds(10);

    internal static IResourceBuilder<IResourceWithConnectionString> AddRedisSentinelSet(this IDistributedApplicationBuilder builder, string name, string redisServer, string dataDirectory)
    {
        var password = ParameterResourceBuilderExtensions.CreateDefaultPasswordParameter(builder, $"{name}-password", special: false);
        var primary = builder.AddDataNode($"{name}-primary", redisServer, dataDirectory, password, replicaOf: null);
        var replicas = new[] { 1, 2 }.Select(i => builder.AddDataNode($"{name}-replica{i}", redisServer, dataDirectory, password, primary)).ToList();

        var set = new RedisSentinelSetResource(name, dataDirectory, password);
        var sentinels = new List<IResourceBuilder<RedisSentinelNodeResource>>
        {
            builder.AddResource<RedisSentinelNodeResource>(set),
            builder.AddResource(new RedisSentinelNodeResource($"{name}-sentinel2", dataDirectory)),
            builder.AddResource(new RedisSentinelNodeResource($"{name}-sentinel3", dataDirectory)),
        };
        set.Sentinels.AddRange(sentinels.Select(s => s.Resource));
        foreach (var sentinel in sentinels)
        {
            sentinel.WithSentinelArgs(redisServer, dataDirectory, password, primary.Resource).WaitFor(primary);
            foreach (var replica in replicas)
            {
                sentinel.WaitFor(replica);
            }
        }

        // Healthy once a failover would work (every Sentinel knows the replicas and the other Sentinels) and a
        // client following the sentinel protocol reaches the primary: what the services need.
        string? connectionString = null;
        builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(set, async (_, ct) =>
            connectionString = await set.ConnectionStringExpression.GetValueAsync(ct).ConfigureAwait(false));
        var healthCheckKey = $"{name}_check";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(healthCheckKey,
            _ => new RedisSentinelSetHealthCheck(() => connectionString, replicas.Count, sentinels.Count), failureStatus: null, tags: null));
        var resource = builder.CreateResourceBuilder(set).WithHealthCheck(healthCheckKey);
        foreach (var sentinel in sentinels.Skip(1))
        {
            resource.WaitFor(sentinel);
        }
        return resource;
    }

    /// <summary>A primary (<paramref name="replicaOf"/> null) or a replica of it; the password arrives on standard input, never on a command line.</summary>
    private static IResourceBuilder<RedisSentinelNodeResource> AddDataNode(this IDistributedApplicationBuilder builder, string name, string redisServer,
        string dataDirectory, ParameterResource password, IResourceBuilder<RedisSentinelNodeResource>? replicaOf)
    {
        var directory = Directory.CreateDirectory(Path.Combine(dataDirectory, name)).FullName;
        var node = builder.AddResource(new RedisSentinelNodeResource(name, directory))
            .WithEndpoint(name: RedisSentinelNodeResource.EndpointName, scheme: "tcp", isProxied: false)
            .WithEnvironment("REDIS_PASSWORD", password)
            .WithArgs(context =>
            {
                context.Args.Add("-c");
                context.Args.Add("exec \"$0\" - \"$@\" <<EOF\nrequirepass $REDIS_PASSWORD\nmasterauth $REDIS_PASSWORD\nEOF\n");
                context.Args.Add(redisServer);
                context.Args.Add("--port");
                context.Args.Add(((RedisSentinelNodeResource)context.Resource).Endpoint.Property(EndpointProperty.TargetPort));
                foreach (var argument in (string[])["--bind", "127.0.0.1", "--dir", directory, "--appendonly", "no", "--save", ""])
                {
                    context.Args.Add(argument);
                }
                if (replicaOf is not null)
                {
                    context.Args.Add("--replicaof");
                    context.Args.Add("127.0.0.1");
                    context.Args.Add(replicaOf.Resource.Endpoint.Property(EndpointProperty.TargetPort));
                }
            })
            .WithIconName("Database");
        return replicaOf is null ? node : node.WaitFor(replicaOf);
    }

    /// <summary>
    /// A Sentinel needs a configuration file it can rewrite: the shell writes one (readable by this user only,
    /// the password comes from the environment) into the data folder, then becomes <c>redis-server --sentinel</c>.
    /// </summary>
    private static IResourceBuilder<RedisSentinelNodeResource> WithSentinelArgs(this IResourceBuilder<RedisSentinelNodeResource> sentinel, string redisServer,
        string dataDirectory, ParameterResource password, RedisSentinelNodeResource primary)
    {
        var service = RedisSentinelSetResource.ServiceName;
        var downAfter = ((long)DownAfter.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        var failoverTimeout = ((long)FailoverTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        var config = Path.Combine(dataDirectory, sentinel.Resource.Name + ".conf");
        return sentinel
            .WithEndpoint(name: RedisSentinelNodeResource.EndpointName, scheme: "tcp", isProxied: false)
            .WithEnvironment("REDIS_PASSWORD", password)
            .WithArgs(context =>
            {
                context.Args.Add("-c");
                context.Args.Add(
                    "umask 077\ncat > \"$0\" <<EOF\n"
                    + "port $1\nbind 127.0.0.1\ndir $2\nrequirepass $REDIS_PASSWORD\nsentinel sentinel-pass $REDIS_PASSWORD\n"
                    + $"sentinel monitor {service} 127.0.0.1 $3 2\nsentinel auth-pass {service} $REDIS_PASSWORD\n"
                    + $"sentinel down-after-milliseconds {service} {downAfter}\nsentinel failover-timeout {service} {failoverTimeout}\n"
                    + "EOF\nexec \"$4\" \"$0\" --sentinel\n");
                context.Args.Add(config);
                context.Args.Add(((RedisSentinelNodeResource)context.Resource).Endpoint.Property(EndpointProperty.TargetPort));
                context.Args.Add(dataDirectory);
                context.Args.Add(primary.Endpoint.Property(EndpointProperty.TargetPort));
                context.Args.Add(redisServer);
            })
            .WithIconName("Eye");
    }
}
