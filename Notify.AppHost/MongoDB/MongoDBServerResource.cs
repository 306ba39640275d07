namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// The MongoDB container as a deployment runs it, in the shape of Aspire.Hosting.MongoDB's resource (that package is not
/// served here): image <c>docker.io/library/mongo</c>, tcp 27017, user <c>admin</c> with a password parameter.
/// Written into the manifest only; it cannot run without a container engine.
/// </summary>
public sealed class MongoDBServerResource(string name, ParameterResource password) : ContainerResource(name), IResourceWithConnectionString
{
    internal const string PrimaryEndpointName = "tcp";
    internal const string UserName = "admin";

    private EndpointReference? _primaryEndpoint;

    public ParameterResource PasswordParameter { get; } = password;

    public EndpointReference PrimaryEndpoint => _primaryEndpoint ??= new(this, PrimaryEndpointName);

    public ReferenceExpression ConnectionStringExpression => BuildConnectionString(databaseName: null);

    internal ReferenceExpression BuildConnectionString(string? databaseName)
    {
        var builder = new ReferenceExpressionBuilder();
        builder.Append($"mongodb://{UserName}:{PasswordParameter}@{PrimaryEndpoint.Property(EndpointProperty.HostAndPort)}/");
        if (databaseName is not null)
        {
            builder.AppendLiteral(databaseName);
        }
        builder.AppendLiteral("?authSource=admin&authMechanism=SCRAM-SHA-256");
        return builder.Build();
    }
}

/// <summary><c>mongod</c> from PATH, run by DCP as a process on a port it allocates, with its data in the run's data folder.</summary>
public sealed class MongodResource(string name, string workingDirectory)
    : ExecutableResource(name, "mongod", workingDirectory), IResourceWithConnectionString
{
    internal const string PrimaryEndpointName = "tcp";

    private EndpointReference? _primaryEndpoint;

    public EndpointReference PrimaryEndpoint => _primaryEndpoint ??= new(this, PrimaryEndpointName);

    public ReferenceExpression ConnectionStringExpression => BuildConnectionString(databaseName: null);

    internal ReferenceExpression BuildConnectionString(string? databaseName) =>
        ReferenceExpression.Create($"mongodb://{PrimaryEndpoint.Property(EndpointProperty.HostAndPort)}/{databaseName ?? ""}");
}

/// <summary>
/// What stands for MongoDB in a local run without one (no <c>mongod</c> on PATH, no <c>ConnectionStrings:mongo</c>):
/// nothing runs, the dashboard shows it as not used, and the services share one SQLite file instead.
/// </summary>
public sealed class SqliteStoreResource(string name, string sqlitePath) : Resource(name)
{
    /// <summary>The SQLite file every service opens (<c>Store__SqlitePath</c>).</summary>
    public string SqlitePath { get; } = sqlitePath;
}
