using System.Net;
using System.Text;
using System.Text.Json;
using Notify.Core.Messaging;
using Notify.Core.Presence;
using Notify.Tests.Infrastructure;
using StackExchange.Redis;

namespace Notify.Tests.Cluster;

/// <summary>
/// What the cluster adds beyond the contracts: user and channel topics ride sharded pub/sub on the shard that
/// owns their slot (and no classic channel), names spread over the shards, and each multi-key step stays in one slot.
/// </summary>
[Collection(RedisClusterCollection.Name)]
public sealed class ShardedPubSubTests(RedisCluster cluster) : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly RedisChannels _channels = new($"sharded-{Guid.NewGuid():N}");
    private readonly RedisConnections _connections = new(cluster);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Subscribe_ToUserTopic_IsShardedOnTheSlotOwnerOnlyAndDelivers()
    {
        var redis = await _connections.OpenAsync();
        var bus = new RedisMessageBus(redis, _channels, new StaticOptions<ChannelOptions>(new ChannelOptions()), TimeProvider.System);
        var publisher = new RedisMessageBus(await _connections.OpenAsync(), _channels, new StaticOptions<ChannelOptions>(new ChannelOptions()), TimeProvider.System);
        var topic = BusTopic.User("alice");
        var name = _channels.For(topic);
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var subscription = await bus.SubscribeAsync(topic, (_, frame) => received.TrySetResult(Encoding.UTF8.GetString(frame.Span)), Ct);

        var owner = OwnerOf(redis, name);
        var counts = new Dictionary<EndPoint, (long Sharded, long Classic)>();
        foreach (var port in cluster.Ports)
        {
            await using var node = await RedisCluster.ConnectNodeAsync(port);
            var server = node.GetServer(node.GetEndPoints()[0]);
            var sharded = (RedisResult[])(await server.ExecuteAsync("PUBSUB", "SHARDNUMSUB", name))!;
            var classic = (RedisResult[])(await server.ExecuteAsync("PUBSUB", "NUMSUB", name))!;
            counts[new IPEndPoint(IPAddress.Loopback, port)] = ((long)sharded[1], (long)classic[1]);
        }
        Assert.Equal(1, counts[owner].Sharded);
        Assert.Equal(1, counts.Values.Sum(c => c.Sharded));
        Assert.Equal(0, counts.Values.Sum(c => c.Classic));

        await publisher.PublishAsync(topic, JsonSerializer.SerializeToUtf8Bytes(new { type = "ping", data = new { n = 1 } }), Ct);
        Assert.Contains("\"ping\"", await received.Task.WaitAsync(Patience, Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Broadcast_WithHistoryOnTheCluster_IsDeliveredOnClassicPubSubAndKeptInHistory()
    {
        var bus = new RedisMessageBus(await _connections.OpenAsync(), _channels, new StaticOptions<ChannelOptions>(new ChannelOptions()), TimeProvider.System);
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var subscription = await bus.SubscribeAsync(BusTopic.Broadcast, (_, frame) => received.TrySetResult(Encoding.UTF8.GetString(frame.Span)), Ct);

        var publication = await bus.PublishToChannelAsync(BusTopic.Broadcast, "broadcast", JsonSerializer.SerializeToElement(new { text = "to all" }), Ct);

        Assert.Contains(publication.Id, await received.Task.WaitAsync(Patience, Ct), StringComparison.Ordinal);
        var history = await bus.ReadHistoryAsync(BusTopic.Broadcast, "0", 10, Ct);
        Assert.Equal([publication.Id], history.Entries.Select(e => e.Id));
    }

    [Fact]
    public async Task Names_OfManyUsersAndChannels_SpreadOverEveryPrimaryAndKeepHistoryWithItsChannel()
    {
        var redis = await _connections.OpenAsync();
        var owners = new HashSet<EndPoint>();
        for (var i = 0; i < 64; i++)
        {
            var user = BusTopic.User("user-" + i);
            var channel = BusTopic.Channel("room-" + i);
            owners.Add(OwnerOf(redis, _channels.For(user)));
            owners.Add(OwnerOf(redis, _channels.For(channel)));
            Assert.Equal(redis.HashSlot(_channels.For(channel)), redis.HashSlot(_channels.History(channel)));
        }
        Assert.Equal(3, owners.Count);
    }

    [Fact]
    public async Task PresenceSnapshots_OfSeveralInstances_SpreadOverShardsAndListTogether()
    {
        var redis = await _connections.OpenAsync();
        var presence = new RedisPresence(redis, _channels, TimeProvider.System);
        var ids = Enumerable.Range(0, 12).Select(i => "instance-" + i).ToArray();
        foreach (var id in ids)
        {
            await presence.PublishAsync(new InstancePresence { Id = id, StartedAt = TimeProvider.System.GetUtcNow() }, TimeSpan.FromMinutes(1), Ct);
        }
        var listed = await presence.ListAsync(Ct);
        Assert.Equal(ids.Order(), listed.Select(p => p.Id).Order());
        Assert.True(ids.Select(id => OwnerOf(redis, $"{_channels.Prefix}:presence:instance:{RedisChannels.HashTag(id)}")).Distinct().Count() > 1);
    }

    private static EndPoint OwnerOf(ConnectionMultiplexer redis, string name)
    {
        var slot = redis.HashSlot(name);
        var config = redis.GetServer(redis.GetEndPoints()[0]).ClusterConfiguration!;
        var node = config.GetBySlot(slot)!;
        return node.EndPoint!;
    }

    public ValueTask DisposeAsync() => _connections.DisposeAsync();
}
