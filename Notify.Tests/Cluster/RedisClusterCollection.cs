using Notify.Tests.Infrastructure;

namespace Notify.Tests.Cluster;

/// <summary>
/// The test classes that share one <see cref="RedisCluster"/> (3 primaries, 3 replicas): each owns its keys
/// (its own prefixes), so one cluster serves them all and the suite pays its start-up once.
/// </summary>
[CollectionDefinition(Name)]
public sealed class RedisClusterCollection : ICollectionFixture<RedisCluster>
{
    public const string Name = "RedisCluster";
}
