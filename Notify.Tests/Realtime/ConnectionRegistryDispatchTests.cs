using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Notify.Core.Json;
using Notify.Core.Messaging;
using Notify.Core.Preferences;
using Notify.Core.Storage;
using Notify.Core.Storage.Sqlite;
using Notify.Realtime.Connections;
using Notify.Realtime.Options;
using Notify.Realtime.Preferences;
using Notify.Tests.Infrastructure;
using Notify.Tests.Messaging;

namespace Notify.Tests.Realtime;

/// <summary>
/// The registry's dispatch from a real redis-server to connections without a transport: every user topic
/// arrives through one shared ordered subscription and keeps its publish order, whatever else is published
/// at the same time; large topics are handed out by several threads and still arrive in order everywhere.
/// </summary>
public sealed class ConnectionRegistryDispatchTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncDisposable
{
    private readonly RedisChannels _channels = new($"dispatch-{Guid.NewGuid():N}");
    private readonly RedisConnections _connections = new(redis);
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"notify-dispatch-{Guid.NewGuid():N}.db");
    private SqliteDatabase? _database;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<IMessageBus> BusAsync() =>
        new RedisMessageBus(await _connections.OpenAsync(), _channels, new StaticOptions<ChannelOptions>(new ChannelOptions()), TimeProvider.System);

    private async Task<ConnectionRegistry> RegistryAsync()
    {
        _database = new SqliteDatabase(_path, TimeSpan.FromSeconds(10), maxConnections: 4, SqliteSynchronousMode.Normal);
        return new ConnectionRegistry(
            await BusAsync(),
            new SqliteNotificationStore(_database),
            new StaticOptions<RealtimeOptions>(new RealtimeOptions()),
            TimeProvider.System,
            NullLogger<ConnectionRegistry>.Instance);
    }

    private static ClientConnection Connection(string user, int capacity) =>
        new(Guid.NewGuid().ToString("N"), user, isAdmin: false, StreamKind.Notifications, capacity, expiresAt: null, TimeProvider.System.GetUtcNow());

    private static byte[] Notification(string id) => JsonSerializer.SerializeToUtf8Bytes(new { type = "notification", data = new { id } });

    /// <summary>The ids (or numbers) of every frame queued on <paramref name="connection"/> so far.</summary>
    private static void Drain(ClientConnection connection, List<string> into)
    {
        while (connection.TryTakeQueued(out var frame))
        {
            var data = JsonDocument.Parse(frame.Bytes).RootElement.GetProperty("data");
            into.Add(data.TryGetProperty("id", out var id) ? id.GetString()! : data.GetProperty("n").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Every frame each of <paramref name="connections"/> queued, once each has at least <paramref name="count"/>.</summary>
    private static async Task<List<string>[]> ReceiveAsync(ClientConnection[] connections, int count, string what)
    {
        var received = connections.Select(_ => new List<string>()).ToArray();
        await MessageBusContractTests.WaitUntilAsync(() =>
        {
            for (var c = 0; c < connections.Length; c++)
            {
                Drain(connections[c], received[c]);
            }
            return received.All(r => r.Count >= count);
        }, what);
        return received;
    }

    [Fact]
    public async Task UserTopics_PublishedConcurrentlyByManyWriters_ReachEachConnectionInPublishOrderThroughOneSubscription()
    {
        var registry = await RegistryAsync();
        const int Users = 200, PerUser = 30, Writers = 8;
        var connections = new ClientConnection[Users];
        for (var u = 0; u < Users; u++)
        {
            connections[u] = Connection($"dispatch-{u}", capacity: PerUser * 2);
            Assert.True(await registry.SubscribeAsync(connections[u], BusTopic.User($"dispatch-{u}"), Ct));
        }
        var stranger = Connection("dispatch-stranger", capacity: 4);

        // Each writer owns every Writers-th user and publishes its users' notifications round-robin, so the
        // topics interleave on Redis while each topic's own order is its writer's.
        var writers = new IMessageBus[Writers];
        for (var w = 0; w < Writers; w++)
        {
            writers[w] = await BusAsync();
        }
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < PerUser; i++)
            {
                for (var u = w; u < Users; u += Writers)
                {
                    await writers[w].PublishAsync(BusTopic.User($"dispatch-{u}"), Notification($"n{i:D4}"), Ct);
                }
                await writers[w].PublishAsync(BusTopic.User("dispatch-nobody-here"), Notification($"n{i:D4}"), Ct);
            }
        }, Ct)));

        var received = await ReceiveAsync(connections, PerUser, "every notification on every connection");

        var expected = Enumerable.Range(0, PerUser).Select(i => $"n{i:D4}").ToArray();
        for (var u = 0; u < Users; u++)
        {
            Assert.Equal(expected, received[u]);
            Assert.Null(connections[u].CloseReason);
        }
        Assert.False(stranger.TryTakeQueued(out _));

        // The user buckets' channels carry them all; no user topic has a Redis channel subscription of its own.
        var server = (await _connections.OpenAsync()).GetServers()[0];
        var subscribed = await server.SubscriptionChannelsAsync(StackExchange.Redis.RedisChannel.Pattern(_channels.Prefix + ":*"));
        Assert.Equal(RedisChannels.UserBuckets, subscribed.Length);
        Assert.All(subscribed, channel => Assert.Contains(channel.ToString(), _channels.EveryUserBucket()));
        Assert.Equal(0L, (long)(await server.ExecuteAsync("PUBSUB", "NUMPAT")));
    }

    [Fact]
    public async Task UserTopic_AfterItsLastReceiverLeft_IsNoLongerDelivered()
    {
        var registry = await RegistryAsync();
        var bus = await BusAsync();
        var leaving = Connection("dispatch-leaving", capacity: 8);
        var staying = Connection("dispatch-staying", capacity: 8);
        await registry.SubscribeAsync(leaving, BusTopic.User("dispatch-leaving"), Ct);
        await registry.SubscribeAsync(staying, BusTopic.User("dispatch-staying"), Ct);

        Assert.True(await registry.UnsubscribeAsync(leaving, BusTopic.User("dispatch-leaving"), Ct));
        await bus.PublishAsync(BusTopic.User("dispatch-leaving"), Notification("gone"), Ct);
        await bus.PublishAsync(BusTopic.User("dispatch-staying"), Notification("here"), Ct);

        var received = await ReceiveAsync([staying], 1, "the staying user's notification");
        // Published before it on the same connection and routed by the same queue: had it been delivered, it would be there.
        Assert.Equal(["here"], received[0]);
        Assert.False(leaving.TryTakeQueued(out _));
    }

    [Fact]
    public async Task LargeTopic_FannedOutBySeveralThreads_ReachesEveryConnectionInPublishOrder()
    {
        var registry = await RegistryAsync();
        var bus = await BusAsync();
        const int Receivers = ConnectionRegistry.ParallelFanOut * 3 + 17, Frames = 40;
        var connections = new ClientConnection[Receivers];
        for (var c = 0; c < Receivers; c++)
        {
            connections[c] = Connection($"fan-{c}", capacity: Frames + 4);
            await registry.SubscribeAsync(connections[c], BusTopic.Broadcast, Ct);
        }

        for (var i = 0; i < Frames; i++)
        {
            await bus.PublishAsync(BusTopic.Broadcast, JsonSerializer.SerializeToUtf8Bytes(new { type = "notification", data = new { n = i } }), Ct);
        }

        var received = await ReceiveAsync(connections, Frames, "every broadcast on every connection");
        var expected = Enumerable.Range(0, Frames).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.All(received, r => Assert.Equal(expected, r));
    }

    [Fact]
    public async Task FanOut_ToAThousandConnections_AllocatesNothingPerConnection()
    {
        var registry = await RegistryAsync();
        const int Receivers = ConnectionRegistry.ParallelFanOut - 24;
        var connections = new ClientConnection[Receivers];
        for (var c = 0; c < Receivers; c++)
        {
            connections[c] = Connection($"alloc-{c}", capacity: 8);
            await registry.SubscribeAsync(connections[c], BusTopic.Broadcast, Ct);
        }
        var frame = JsonSerializer.SerializeToUtf8Bytes(new { type = "notification", data = new { n = 1 } });

        var allocated = AllocatedByFanOut(registry, connections, frame, frame);

        Assert.True(allocated < Receivers, $"{allocated} bytes allocated handing one frame to {Receivers} connections");
        Assert.All(connections, c => Assert.True(c.TryTakeQueued(out var queued) && queued.Bytes.Span.SequenceEqual(frame)));
    }

    [Fact]
    public async Task FanOut_ToConnectionsWithPreferenceFilters_DropsTheOffTypeAndAllocatesNothingPerConnection()
    {
        var registry = await RegistryAsync();
        var preferencesStore = new SqlitePreferencesStore(_database!);
        await preferencesStore.InitializeAsync(Ct);
        var preferences = new PreferenceFilters(preferencesStore, TimeProvider.System, NullLogger<PreferenceFilters>.Instance);
        var off = new NotificationPreferences
        {
            Types = new Dictionary<string, IReadOnlyDictionary<string, DeliveryMode>>
            {
                ["promo"] = new Dictionary<string, DeliveryMode> { [PreferenceChannels.InApp] = DeliveryMode.Off },
            },
        };
        const int Receivers = ConnectionRegistry.ParallelFanOut - 24;
        var connections = new ClientConnection[Receivers];
        for (var c = 0; c < Receivers; c++)
        {
            // Every other user turned "promo" off: those filters look into the frame, the others only check a flag.
            connections[c] = Connection($"pref-{c}", capacity: 8);
            if (c % 2 == 0)
            {
                Assert.NotNull(await preferencesStore.TryPutAsync(connections[c].UserId, off, 0, TimeProvider.System.GetUtcNow(), Ct));
            }
            await preferences.AttachAsync(connections[c], Ct);
            await registry.SubscribeAsync(connections[c], BusTopic.Broadcast, Ct);
        }
        var news = Frames.Serialize("message", new { channel = "broadcast", id = "0-1", payload = new { type = "news" } });
        var promo = Frames.Serialize("message", new { channel = "broadcast", id = "0-2", payload = new { type = "promo" } });

        var allocated = AllocatedByFanOut(registry, connections, news, promo);

        Assert.True(allocated < Receivers, $"{allocated} bytes allocated handing one frame to {Receivers} connections with preference filters");
        for (var c = 0; c < Receivers; c++)
        {
            Assert.Equal(c % 2 != 0, connections[c].TryTakeQueued(out _));
        }
    }

    /// <summary>
    /// Bytes this thread allocates handing <paramref name="frame"/> to <paramref name="connections"/> (below the
    /// parallel threshold, so all of the fan-out), after a fan-out of <paramref name="first"/> took the receivers'
    /// snapshot and grew each queue's buffer (a drained queue keeps it).
    /// </summary>
    private static long AllocatedByFanOut(ConnectionRegistry registry, ClientConnection[] connections, byte[] first, byte[] frame)
    {
        registry.FanOut(BusTopic.Broadcast, first);
        foreach (var connection in connections)
        {
            Assert.True(connection.TryTakeQueued(out _));
        }
        var before = GC.GetAllocatedBytesForCurrentThread();
        registry.FanOut(BusTopic.Broadcast, frame);
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    public async ValueTask DisposeAsync()
    {
        await _connections.DisposeAsync();
        _database?.Dispose();
        TestEnvironment.DeleteSqliteFiles(_path);
    }
}
