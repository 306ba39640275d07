using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Aspire.Hosting;

/// <summary>
/// <c>AddMongoDB(...).AddDatabase(...)</c> with the names and manifest shape of Aspire.Hosting.MongoDB, which the feed
/// does not serve; delete this folder the day it is. Publish mode writes the standard container resource. Run mode
/// uses, in this order: the server <c>ConnectionStrings:mongo</c> names; <c>mongod</c> from PATH (unless
/// <c>AppHost:UseMongod=false</c>); otherwise nothing runs and the services share one SQLite file.
/// </summary>
public static class MongoDBBuilderExtensions
{
    public static MongoDBServer AddMongoDB(this IDistributedApplicationBuilder builder, [ResourceName] string name)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.ExecutionContext.IsPublishMode)
        {
            var password = ParameterResourceBuilderExtensions.CreateDefaultPasswordParameter(builder, $"{name}-password", special: false);
            var container = new MongoDBServerResource(name, password);
            var published = builder.AddResource(container)
                .WithEndpoint(targetPort: 27017, name: MongoDBServerResource.PrimaryEndpointName)
                .WithImage("library/mongo", "8.0")
                .WithImageRegistry("docker.io")
                .WithEnvironment("MONGO_INITDB_ROOT_USERNAME", MongoDBServerResource.UserName)
                .WithEnvironment("MONGO_INITDB_ROOT_PASSWORD", password);
            return new MongoDBServer(builder, published, container.BuildConnectionString);
        }

        if (builder.Configuration.GetConnectionString(name) is { Length: > 0 } external)
        {
            var existing = builder.AddConnectionString(name);
            return new MongoDBServer(builder, existing, database => ReferenceExpression.Create($"{MongoUrls.WithDatabase(external, database ?? "")}"));
        }

        if (builder.Configuration.GetValue("AppHost:UseMongod", defaultValue: true) && Prerequisites.FindOnPath("mongod") is not null)
        {
            var dataDirectory = Directory.CreateDirectory(Path.Combine(LocalRun.DataDirectory(builder), name)).FullName;
            var mongod = new MongodResource(name, dataDirectory);
            var healthCheckKey = $"{name}_check";
            builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
                healthCheckKey, _ => new MongoPingHealthCheck(mongod), failureStatus: null, tags: null));
            var running = builder.AddResource(mongod)
                .WithEndpoint(name: MongodResource.PrimaryEndpointName, scheme: "tcp", isProxied: false)
                .WithArgs(context =>
                {
                    context.Args.Add("--port");
                    context.Args.Add(mongod.PrimaryEndpoint.Property(EndpointProperty.TargetPort));
                    context.Args.Add("--bind_ip");
                    context.Args.Add("127.0.0.1");
                    context.Args.Add("--dbpath");
                    context.Args.Add(dataDirectory);
                })
                .WithIconName("Database")
                .WithHealthCheck(healthCheckKey);
            return new MongoDBServer(builder, running, mongod.BuildConnectionString);
        }

        var sqlitePath = builder.Configuration["Store:SqlitePath"] is { Length: > 0 } configured
            ? configured
            : Path.Combine(LocalRun.DataDirectory(builder), "notify.db");
        var absent = builder.AddResource(new SqliteStoreResource(name, sqlitePath))
            .WithIconName("Database")
            .WithInitialState(NotUsed(sqlitePath))
            .OnInitializeResource((resource, @event, _) =>
            {
                @event.Logger.LogInformation(
                    "No MongoDB: mongod is not on PATH (or AppHost:UseMongod is false) and ConnectionStrings:mongo is not set. The services share the SQLite file {SqlitePath}.",
                    sqlitePath);
                return Task.CompletedTask;
            });
        return new MongoDBServer(builder, absent, null);
    }

    /// <summary>Gives <paramref name="builder"/> the database's connection string, or the shared SQLite file when no MongoDB runs.</summary>
    public static IResourceBuilder<T> WithReference<T>(this IResourceBuilder<T> builder, IResourceBuilder<MongoDBDatabaseResource> database)
        where T : IResourceWithEnvironment
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(database);
        return database.Resource.SqlitePath is { } sqlitePath
            ? builder.WithEnvironment("Store__SqlitePath", sqlitePath)
            : ResourceBuilderExtensions.WithReference(builder, (IResourceBuilder<IResourceWithConnectionString>)database);
    }

    /// <summary>Waits for the database, when there is one.</summary>
    public static IResourceBuilder<T> WaitFor<T>(this IResourceBuilder<T> builder, IResourceBuilder<MongoDBDatabaseResource> database)
        where T : IResourceWithWaitSupport
    {
        ArgumentNullException.ThrowIfNull(database);
        return database.Resource.SqlitePath is null ? ResourceBuilderExtensions.WaitFor(builder, database) : builder;
    }

    internal static CustomResourceSnapshot NotUsed(string sqlitePath) => new()
    {
        ResourceType = "MongoDB",
        State = new ResourceStateSnapshot("Not used", KnownResourceStateStyles.Info),
        Properties = [new("notify.store", $"SQLite {sqlitePath}")],
    };
}

/// <summary>The MongoDB server of the graph, whatever runs it; <see cref="AddDatabase"/> adds a database to it.</summary>
public sealed class MongoDBServer(IDistributedApplicationBuilder builder, IResourceBuilder<IResource> server, Func<string?, ReferenceExpression>? database)
{
    public IResourceBuilder<IResource> Resource { get; } = server;

    public IResourceBuilder<MongoDBDatabaseResource> AddDatabase([ResourceName] string name, string? databaseName = null)
    {
        databaseName ??= name;
        var resource = new MongoDBDatabaseResource(name, databaseName, Resource.Resource, database?.Invoke(databaseName) ?? ReferenceExpression.Create($""));
        var added = builder.AddResource(resource);
        return resource.SqlitePath is { } sqlitePath ? added.WithInitialState(MongoDBBuilderExtensions.NotUsed(sqlitePath)) : added;
    }
}

/// <summary>MongoDB connection strings with a database put in their path.</summary>
public static class MongoUrls
{
    /// <summary><c>mongodb://hosts[/db][?options]</c> → <c>mongodb://hosts/database[?options]</c>.</summary>
    public static string WithDatabase(string server, string database)
    {
        ArgumentNullException.ThrowIfNull(server);
        var query = server.IndexOf('?', StringComparison.Ordinal);
        var (head, tail) = query < 0 ? (server, "") : (server[..query], server[query..]);
        var schemeEnd = head.IndexOf("://", StringComparison.Ordinal) + 3;
        var slash = head.IndexOf('/', schemeEnd);
        var hosts = slash < 0 ? head : head[..slash];
        return $"{hosts}/{database}{tail}";
    }
}

/// <summary>A <c>{ping: 1}</c> against the local mongod.</summary>
internal sealed class MongoPingHealthCheck(MongodResource mongod) : IHealthCheck
{
    private MongoDB.Driver.MongoClient? _client;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            _client ??= new MongoDB.Driver.MongoClient(await mongod.ConnectionStringExpression.GetValueAsync(cancellationToken).ConfigureAwait(false));
            await _client.GetDatabase("admin").RunCommandAsync<MongoDB.Bson.BsonDocument>(new MongoDB.Bson.BsonDocument("ping", 1), cancellationToken: cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is MongoDB.Driver.MongoException or TimeoutException or InvalidOperationException)
        {
            return HealthCheckResult.Unhealthy(e.Message);
        }
    }
}
