using Notify.Core.Messaging;
using Notify.Core.Presence;
using Notify.Core.Tasks;
using Notify.Tests.Infrastructure;
using Notify.Tests.Messaging;
using Notify.Tests.Presence;
using Notify.Tests.Tasks;

namespace Notify.Tests.Cluster;

/// <summary>The message bus contract on <see cref="RedisMessageBus"/> and a real Redis Cluster (sharded pub/sub for users and channels).</summary>
[Collection(RedisClusterCollection.Name)]
public sealed class ClusterMessageBusContractTests(RedisCluster cluster) : MessageBusContractTests, IAsyncDisposable
{
    private readonly RedisChannels _channels = new($"bus-cluster-{Guid.NewGuid():N}");
    private readonly RedisConnections _connections = new(cluster);

    protected override async Task<IMessageBus> CreateBusAsync(ChannelOptions? options = null) =>
        new RedisMessageBus(await _connections.OpenAsync(), _channels, new StaticOptions<ChannelOptions>(options ?? new ChannelOptions()), TimeProvider.System);

    public ValueTask DisposeAsync() => _connections.DisposeAsync();
}

/// <summary>The presence contract on <see cref="RedisPresence"/> and a real Redis Cluster (snapshots spread over the shards).</summary>
[Collection(RedisClusterCollection.Name)]
public sealed class ClusterPresenceContractTests(RedisCluster cluster) : PresenceContractTests, IAsyncDisposable
{
    private readonly RedisChannels _channels = new($"presence-cluster-{Guid.NewGuid():N}");
    private readonly RedisConnections _connections = new(cluster);

    protected override async Task<IPresence> CreatePresenceAsync() =>
        new RedisPresence(await _connections.OpenAsync(), _channels, Time);

    public ValueTask DisposeAsync() => _connections.DisposeAsync();
}

/// <summary>The task queue contract on <see cref="RedisTaskQueue"/> and a real Redis Cluster (the queue in one slot by its hash-tagged prefix).</summary>
[Collection(RedisClusterCollection.Name)]
public sealed class ClusterTaskQueueContractTests(RedisCluster cluster) : TaskQueueContractTests
{
    protected override async Task<ITaskQueueHarness> CreateAsync(Action<QueueOptions>? configure = null, bool fakeTime = false) =>
        await QueueTestContext.CreateAsync(cluster, configure, fakeTime);
}
