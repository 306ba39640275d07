using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Aspire.Hosting;

public static class RedisServerBuilderExtensions
{
    /// <summary>What the local run starts for Redis: <c>single</c> (default), <c>sentinel</c> (<see cref="RedisSentinelBuilderExtensions"/>) or <c>cluster</c> (<see cref="RedisClusterBuilderExtensions"/>).</summary>
    public const string ModeKey = "AppHost:Redis:Mode";

    /// <summary>
    /// Redis as the services need it. Publish mode: the stock Aspire Redis container resource (<c>AddRedis</c>).
    /// Run mode with <c>ConnectionStrings:redis</c> in the AppHost's configuration: that Redis. Otherwise: <c>redis-server</c> from PATH (installed with apt-get when missing, see <see cref="Prerequisites"/>)
    /// on a port DCP allocates, with a generated password, append-only persistence under
    /// <c>&lt;AppHost:DataDirectory&gt;/redis</c> (a restarted server keeps the task queue and Hangfire's state) and a PING
    /// health check, so <c>WaitFor(redis)</c> waits until it answers.
    /// </summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddRedisServer(this IDistributedApplicationBuilder builder, [ResourceName] string name)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.ExecutionContext.IsPublishMode)
        {
            return builder.AddRedis(name);
        }
        if (builder.Configuration.GetConnectionString(name) is { Length: > 0 })
        {
            // An existing Redis (ConnectionStrings:redis in the AppHost's configuration): nothing to start.
            return builder.AddConnectionString(name);
        }
        var mode = (builder.Configuration[ModeKey] ?? "single").ToLowerInvariant();
        if (mode == "cluster")
        {
            return builder.AddRedisCluster(name);
        }

        var redisServer = Prerequisites.RedisServer(builder.Configuration);
        var dataDirectory = Directory.CreateDirectory(Path.Combine(LocalRun.DataDirectory(builder), name)).FullName;
        switch (mode)
        {
            case "single":
                break;
            case "sentinel":
                return builder.AddRedisSentinelSet(name, redisServer, dataDirectory);
            default:
                throw new MissingPrerequisiteException($"{ModeKey} is '{builder.Configuration[ModeKey]}'; use single (one redis-server, the default), sentinel (a primary, two replicas and three Sentinels) or cluster (3 primaries, 3 replicas).");
        }
        var password = ParameterResourceBuilderExtensions.CreateDefaultPasswordParameter(builder, $"{name}-password", special: false);
        var redis = new RedisServerResource(name, dataDirectory, password);

        string? connectionString = null;
        builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(redis, async (_, ct) =>
            connectionString = await redis.ConnectionStringExpression.GetValueAsync(ct).ConfigureAwait(false));
        var healthCheckKey = $"{name}_check";
        builder.Services.AddHealthChecks().AddRedis(
            _ => connectionString ?? throw new InvalidOperationException($"The connection string of '{name}' is not available yet."),
            name: healthCheckKey);

        // The password reaches redis-server on its standard input, never on a command line that ps or the dashboard shows.
        return builder.AddResource(redis)
            .WithEndpoint(name: RedisServerResource.PrimaryEndpointName, scheme: "tcp", isProxied: false)
            .WithEnvironment("REDIS_PASSWORD", password)
            .WithArgs(context =>
            {
                context.Args.Add("-c");
                context.Args.Add("exec \"$0\" - \"$@\" <<EOF\nrequirepass $REDIS_PASSWORD\nEOF\n");
                context.Args.Add(redisServer);
                context.Args.Add("--port");
                context.Args.Add(redis.PrimaryEndpoint.Property(EndpointProperty.TargetPort));
                foreach (var argument in (string[])["--bind", "127.0.0.1", "--dir", dataDirectory, "--appendonly", "yes", "--appendfsync", "everysec", "--save", ""])
                {
                    context.Args.Add(argument);
                }
            })
            .WithIconName("Database")
            .WithHealthCheck(healthCheckKey);
    }
}
