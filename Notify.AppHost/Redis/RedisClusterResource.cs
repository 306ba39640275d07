namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// A local Redis Cluster (<c>AppHost:Redis:Mode=cluster</c>): one supervising shell that starts
/// <see cref="Nodes"/> <c>redis-server</c> processes with <c>cluster-enabled yes</c> on ports DCP allocates
/// (a client port and a cluster-bus port each), joins them with <c>redis-cli --cluster create
/// --cluster-replicas 1</c> and stops them all when it is stopped. Its connection string names every node
/// and the password, the StackExchange.Redis form of a cluster.
/// </summary>
public sealed class RedisClusterResource(string name, string workingDirectory, ParameterResource password)
    : ExecutableResource(name, "/bin/sh", workingDirectory), IResourceWithConnectionString
{
    /// <summary>Three primaries, a replica each.</summary>
    public const int Nodes = 6;

    /// <summary>The generated password every client and node sends (<c>requirepass</c>, <c>masterauth</c>).</summary>
    public ParameterResource PasswordParameter { get; } = password;

    /// <summary>The client endpoint of node <paramref name="index"/>.</summary>
    public EndpointReference Node(int index) => new(this, "node" + index.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The cluster-bus endpoint of node <paramref name="index"/>.</summary>
    public EndpointReference Bus(int index) => new(this, "bus" + index.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public ReferenceExpression ConnectionStringExpression
    {
        get
        {
            // 127.0.0.1, the address the nodes announce in the cluster: with another name for the same node the
            // client would list every node twice.
            var builder = new ReferenceExpressionBuilder();
            for (var i = 0; i < Nodes; i++)
            {
                builder.AppendLiteral("127.0.0.1:");
                builder.AppendFormatted(Node(i).Property(EndpointProperty.Port));
                builder.AppendLiteral(",");
            }
            builder.AppendLiteral("password=");
            builder.AppendFormatted(PasswordParameter);
            return builder.Build();
        }
    }
}
