namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// <c>redis-server</c> from PATH, run by DCP as a process (no container engine needed): a port DCP allocates,
/// a password, an append-only file in a data folder. Its connection string has the shape of the stock Redis
/// resource's, so the services cannot tell the two apart.
/// </summary>
public sealed class RedisServerResource(string name, string workingDirectory, ParameterResource password)
    : ExecutableResource(name, "/bin/sh", workingDirectory), IResourceWithConnectionString
{
    internal const string PrimaryEndpointName = "tcp";

    private EndpointReference? _primaryEndpoint;

    /// <summary>The generated password every client sends (<c>requirepass</c>).</summary>
    public ParameterResource PasswordParameter { get; } = password;

    public EndpointReference PrimaryEndpoint => _primaryEndpoint ??= new(this, PrimaryEndpointName);

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{PrimaryEndpoint.Property(EndpointProperty.HostAndPort)},password={PasswordParameter}");
}
