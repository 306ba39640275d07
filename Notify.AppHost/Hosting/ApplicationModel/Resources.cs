using System.Globalization;

namespace Notify.AppHost.Hosting;

/// <summary>A named part of the application graph: a container, a database, a project or a parameter.</summary>
public interface IResource
{
    string Name { get; }
}

/// <summary>A value that is known only when the graph runs and is written as an expression in the manifest.</summary>
public interface IValueProvider
{
    /// <summary>The manifest expression, e.g. <c>{auth-signing-key.value}</c>.</summary>
    string ManifestExpression { get; }

    /// <summary>The value in a running graph (after ports, passwords and parameters are resolved).</summary>
    string GetValue();
}

/// <summary>A resource other resources reach through a connection string (<c>ConnectionStrings__name</c>).</summary>
public interface IResourceWithConnectionString : IResource
{
    /// <summary>The connection string as a manifest expression.</summary>
    string ConnectionStringExpression { get; }

    /// <summary>The connection string in a running graph; null when the resource does not run.</summary>
    string? ConnectionString { get; }
}

/// <summary>A resource that can be told to wait for others before it starts.</summary>
public interface IResourceWithWaitSupport : IResource
{
    List<IResource> WaitsFor { get; }
}

/// <summary>Redis (<c>AddRedis</c>): a local <c>redis-server</c> when run, a <c>redis</c> container when published.</summary>
public sealed class RedisResource(string name, ParameterResource password) : IResourceWithConnectionString
{
    public const int DefaultPort = 6379;

    public string Name { get; } = name;

    public ParameterResource PasswordParameter { get; } = password;

    /// <summary>Set when <c>ConnectionStrings:&lt;name&gt;</c> points the AppHost at an existing Redis.</summary>
    public string? ExternalConnectionString { get; internal set; }

    /// <summary>The loopback port of the local <c>redis-server</c>, allocated at start.</summary>
    public int Port { get; internal set; }

    public string ConnectionStringExpression =>
        $"{{{Name}.bindings.tcp.host}}:{{{Name}.bindings.tcp.port}},password={{{PasswordParameter.Name}.value}}";

    public string? ConnectionString => ExternalConnectionString
        ?? (Port == 0 ? null : string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{Port},password={PasswordParameter.Value}"));
}

/// <summary>MongoDB (<c>AddMongoDB</c>): a local <c>mongod</c> when one is on PATH, a <c>mongo</c> container when published.</summary>
public sealed class MongoDBServerResource(string name, ParameterResource password) : IResourceWithConnectionString
{
    public const int DefaultPort = 27017;

    public string Name { get; } = name;

    public ParameterResource PasswordParameter { get; } = password;

    public List<MongoDBDatabaseResource> Databases { get; } = [];

    /// <summary>Set when <c>ConnectionStrings:&lt;name&gt;</c> points the AppHost at an existing MongoDB server.</summary>
    public string? ExternalConnectionString { get; internal set; }

    /// <summary>The loopback port of the local <c>mongod</c>; 0 when none runs (the services use SQLite then).</summary>
    public int Port { get; internal set; }

    public bool IsAvailable => ExternalConnectionString is not null || Port != 0;

    public string ConnectionStringExpression =>
        $"mongodb://admin:{{{PasswordParameter.Name}.value}}@{{{Name}.bindings.tcp.host}}:{{{Name}.bindings.tcp.port}}?authSource=admin&authMechanism=SCRAM-SHA-256";

    public string? ConnectionString => ExternalConnectionString
        ?? (Port == 0 ? null : string.Create(CultureInfo.InvariantCulture, $"mongodb://127.0.0.1:{Port}"));
}

/// <summary>A database on a MongoDB server (<c>AddDatabase</c>). When no MongoDB runs locally, the services
/// that reference it get the shared SQLite file instead (<c>Store__SqlitePath</c>).</summary>
public sealed class MongoDBDatabaseResource(string name, string databaseName, MongoDBServerResource parent) : IResourceWithConnectionString
{
    public string Name { get; } = name;

    public string DatabaseName { get; } = databaseName;

    public MongoDBServerResource Parent { get; } = parent;

    /// <summary>Set when <c>ConnectionStrings:&lt;name&gt;</c> points the AppHost at an existing database.</summary>
    public string? ExternalConnectionString { get; internal set; }

    public string ConnectionStringExpression =>
        $"mongodb://admin:{{{Parent.PasswordParameter.Name}.value}}@{{{Parent.Name}.bindings.tcp.host}}:{{{Parent.Name}.bindings.tcp.port}}/{DatabaseName}?authSource=admin&authMechanism=SCRAM-SHA-256";

    public string? ConnectionString => ExternalConnectionString
        ?? (Parent.ConnectionString is { } server ? WithDatabase(server, DatabaseName) : null);

    private static string WithDatabase(string server, string database)
    {
        // mongodb://host:port[/db][?options] → the database goes before the options.
        var query = server.IndexOf('?', StringComparison.Ordinal);
        var (head, tail) = query < 0 ? (server, "") : (server[..query], server[query..]);
        var schemeEnd = head.IndexOf("://", StringComparison.Ordinal) + 3;
        var slash = head.IndexOf('/', schemeEnd);
        var hosts = slash < 0 ? head : head[..slash];
        return $"{hosts}/{database}{tail}";
    }
}

/// <summary>A .NET project (<c>AddProject</c>): one process per replica, each on its own loopback port.</summary>
public sealed class ProjectResource(string name, IProjectMetadata metadata) : IResourceWithWaitSupport
{
    public string Name { get; } = name;

    public IProjectMetadata Metadata { get; } = metadata;

    /// <summary>How many processes run this project locally (<c>WithReplicas</c>). Not written to the manifest.</summary>
    public int Replicas { get; internal set; } = 1;

    /// <summary>Whether the HTTP endpoint is reachable from outside the deployment (<c>WithExternalHttpEndpoints</c>).</summary>
    public bool ExternalHttpEndpoints { get; internal set; }

    public List<IResource> WaitsFor { get; } = [];

    /// <summary>Extra links the resource table shows (<c>WithUrl</c>), relative to the HTTP endpoint.</summary>
    public List<(string Path, string DisplayText)> Urls { get; } = [];

    /// <summary>References and environment variables in the order they were declared.</summary>
    internal List<EnvironmentAnnotation> Environment { get; } = [];

    /// <summary>The loopback port of each replica, allocated at start.</summary>
    public IReadOnlyList<int> Ports { get; internal set; } = [];

    /// <summary>The HTTP endpoint of this project (replica 0 when run).</summary>
    public EndpointReference GetEndpoint(string name) => new(this, name);

    public Uri ReplicaUrl(int replica) => new(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{Ports[replica]}"));
}

/// <summary>An endpoint of a project, usable as an environment value.</summary>
public sealed class EndpointReference(ProjectResource resource, string endpointName) : IValueProvider
{
    public ProjectResource Resource { get; } = resource;

    public string EndpointName { get; } = endpointName;

    public string ManifestExpression => $"{{{Resource.Name}.bindings.{EndpointName}.url}}";

    public string GetValue() => Resource.ReplicaUrl(0).ToString().TrimEnd('/');
}

/// <summary>How a parameter's value is generated when none is configured (Aspire's <c>GenerateParameterDefault</c>).</summary>
public sealed class GenerateParameterDefault
{
    public int MinLength { get; init; } = 22;

    public bool Special { get; init; } = true;
}

/// <summary>
/// An external value (<c>AddParameter</c>), read from configuration <c>Parameters:&lt;name&gt;</c>; a parameter with
/// a <see cref="GenerateParameterDefault"/> gets a fresh random value per run when none is configured.
/// </summary>
public sealed class ParameterResource(string name, bool secret, GenerateParameterDefault? generate) : IResource, IValueProvider
{
    private string? _value;

    public string Name { get; } = name;

    public bool Secret { get; } = secret;

    public GenerateParameterDefault? Generate { get; } = generate;

    public string ManifestExpression => $"{{{Name}.value}}";

    /// <summary>The resolved value; set when the graph starts.</summary>
    public string Value
    {
        get => _value ?? throw new InvalidOperationException($"Parameter '{Name}' has no value yet.");
        internal set => _value = value;
    }

    public string GetValue() => Value;

    internal bool HasValue => _value is not null;
}

/// <summary>An entry of a project's environment, rendered both for a local run and for the manifest.</summary>
internal abstract record EnvironmentAnnotation;

/// <summary><c>WithReference</c>: connection string or service discovery variables of <paramref name="Target"/>.</summary>
internal sealed record ReferenceAnnotation(IResource Target) : EnvironmentAnnotation;

/// <summary><c>WithEnvironment</c>: a literal or a value provider.</summary>
internal sealed record EnvironmentVariableAnnotation(string Name, string? Literal, IValueProvider? Provider) : EnvironmentAnnotation;
