namespace Notify.AppHost.Hosting;

/// <summary>Metadata of a project resource: where its project file is (see Projects.cs).</summary>
public interface IProjectMetadata
{
    string ProjectPath { get; }
}

/// <summary>A resource being declared, with the builder that owns it.</summary>
public interface IResourceBuilder<out T> where T : IResource
{
    T Resource { get; }

    DistributedApplicationBuilder ApplicationBuilder { get; }
}

internal sealed class ResourceBuilder<T>(T resource, DistributedApplicationBuilder applicationBuilder) : IResourceBuilder<T> where T : IResource
{
    public T Resource { get; } = resource;

    public DistributedApplicationBuilder ApplicationBuilder { get; } = applicationBuilder;
}

/// <summary>The Aspire hosting verbs this AppHost uses.</summary>
public static class ResourceBuilderExtensions
{
    /// <summary>Adds Redis. Locally: <c>redis-server</c> from PATH on a free loopback port (or <c>ConnectionStrings:redis</c>).</summary>
    public static IResourceBuilder<RedisResource> AddRedis(this DistributedApplicationBuilder builder, string name)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var password = builder.AddImplicitParameter($"{name}-password");
        return builder.AddResource(new RedisResource(name, password));
    }

    /// <summary>Adds MongoDB. Locally: <c>mongod</c> from PATH when present (or <c>ConnectionStrings:mongo</c>), else nothing.</summary>
    public static IResourceBuilder<MongoDBServerResource> AddMongoDB(this DistributedApplicationBuilder builder, string name)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var password = builder.AddImplicitParameter($"{name}-password");
        return builder.AddResource(new MongoDBServerResource(name, password));
    }

    /// <summary>Adds a database on the server; its connection string names the database.</summary>
    public static IResourceBuilder<MongoDBDatabaseResource> AddDatabase(this IResourceBuilder<MongoDBServerResource> server, string name, string? databaseName = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        var database = new MongoDBDatabaseResource(name, databaseName ?? name, server.Resource);
        server.Resource.Databases.Add(database);
        return server.ApplicationBuilder.AddResource(database);
    }

    /// <summary>Adds a .NET project, launched from its build output.</summary>
    public static IResourceBuilder<ProjectResource> AddProject<TProject>(this DistributedApplicationBuilder builder, string name)
        where TProject : IProjectMetadata, new()
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddResource(new ProjectResource(name, new TProject()));
    }

    /// <summary>Adds a parameter read from <c>Parameters:&lt;name&gt;</c>, generated per run when absent.</summary>
    public static IResourceBuilder<ParameterResource> AddParameter(this DistributedApplicationBuilder builder, string name, GenerateParameterDefault value, bool secret = false)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddResource(new ParameterResource(name, secret, value));
    }

    /// <summary>Injects the connection string of <paramref name="source"/> as <c>ConnectionStrings__&lt;name&gt;</c>.</summary>
    public static IResourceBuilder<ProjectResource> WithReference(this IResourceBuilder<ProjectResource> builder, IResourceBuilder<IResourceWithConnectionString> source)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(source);
        builder.Resource.Environment.Add(new ReferenceAnnotation(source.Resource));
        return builder;
    }

    /// <summary>Injects the HTTP endpoints of <paramref name="source"/> as <c>services__&lt;name&gt;__http__&lt;i&gt;</c> (one per replica).</summary>
    public static IResourceBuilder<ProjectResource> WithReference(this IResourceBuilder<ProjectResource> builder, IResourceBuilder<ProjectResource> source)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(source);
        builder.Resource.Environment.Add(new ReferenceAnnotation(source.Resource));
        return builder;
    }

    /// <summary>Starts this resource only once <paramref name="dependency"/> is healthy.</summary>
    public static IResourceBuilder<T> WaitFor<T>(this IResourceBuilder<T> builder, IResourceBuilder<IResource> dependency) where T : IResourceWithWaitSupport
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(dependency);
        builder.Resource.WaitsFor.Add(dependency.Resource);
        return builder;
    }

    /// <summary>Runs <paramref name="replicas"/> processes of the project locally, each on its own port.</summary>
    public static IResourceBuilder<ProjectResource> WithReplicas(this IResourceBuilder<ProjectResource> builder, int replicas)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentOutOfRangeException.ThrowIfLessThan(replicas, 1);
        builder.Resource.Replicas = replicas;
        return builder;
    }

    /// <summary>Marks the HTTP endpoints as reachable from outside the deployment (manifest <c>external: true</c>).</summary>
    public static IResourceBuilder<ProjectResource> WithExternalHttpEndpoints(this IResourceBuilder<ProjectResource> builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Resource.ExternalHttpEndpoints = true;
        return builder;
    }

    public static IResourceBuilder<ProjectResource> WithEnvironment(this IResourceBuilder<ProjectResource> builder, string name, string value)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Resource.Environment.Add(new EnvironmentVariableAnnotation(name, value, null));
        return builder;
    }

    public static IResourceBuilder<ProjectResource> WithEnvironment(this IResourceBuilder<ProjectResource> builder, string name, IValueProvider value)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Resource.Environment.Add(new EnvironmentVariableAnnotation(name, null, value));
        return builder;
    }

    public static IResourceBuilder<ProjectResource> WithEnvironment(this IResourceBuilder<ProjectResource> builder, string name, IResourceBuilder<ParameterResource> parameter)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        return builder.WithEnvironment(name, (IValueProvider)parameter.Resource);
    }

    /// <summary>A link the resource table shows for this project, e.g. <c>WithUrl("/hangfire", "Hangfire dashboard")</c>.</summary>
    public static IResourceBuilder<ProjectResource> WithUrl(this IResourceBuilder<ProjectResource> builder, string path, string displayText)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Resource.Urls.Add((path, displayText));
        return builder;
    }

    /// <summary>The HTTP endpoint of the project, usable as an environment value.</summary>
    public static EndpointReference GetEndpoint(this IResourceBuilder<ProjectResource> builder, string name)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Resource.GetEndpoint(name);
    }
}
