namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// One process of a local Redis Sentinel set (<c>AppHost:Redis:Mode=sentinel</c>): a data node (the first
/// primary or a replica) or a Sentinel, <c>redis-server</c> from PATH run by DCP on a port it allocates.
/// </summary>
public class RedisSentinelNodeResource(string name, string workingDirectory)
    : ExecutableResource(name, "/bin/sh", workingDirectory)
{
    internal const string EndpointName = "tcp";

    private EndpointReference? _endpoint;

    public EndpointReference Endpoint => _endpoint ??= new(this, EndpointName);
}

/// <summary>
/// The first Sentinel of the set, and the resource the services reference: its connection string names every
/// Sentinel and the service name in StackExchange.Redis sentinel syntax
/// (<c>127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3,serviceName=notify,password=...</c>), so the services find the
/// current primary through the Sentinels and follow a failover.
/// </summary>
public sealed class RedisSentinelSetResource(string name, string workingDirectory, ParameterResource password)
    : RedisSentinelNodeResource(name, workingDirectory), IResourceWithConnectionString
{
    /// <summary>The name the Sentinels monitor the primary under (<c>serviceName=</c>).</summary>
    public const string ServiceName = "notify";

    /// <summary>The password of every node and Sentinel.</summary>
    public ParameterResource PasswordParameter { get; } = password;

    /// <summary>Every Sentinel of the set, this one first.</summary>
    internal List<RedisSentinelNodeResource> Sentinels { get; } = [];

    public ReferenceExpression ConnectionStringExpression
    {
        get
        {
            var expression = new ReferenceExpressionBuilder();
            foreach (var sentinel in Sentinels)
            {
                expression.Append($"{sentinel.Endpoint.Property(EndpointProperty.HostAndPort)},");
            }
            expression.Append($"serviceName={ServiceName},password={PasswordParameter}");
            return expression.Build();
        }
    }
}
