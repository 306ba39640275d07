using System.Collections.Concurrent;
using System.Diagnostics;
using Notify.Core.Notifications;
using Notify.Core.Storage;
using Notify.Core.Storage.Sqlite;
using Notify.Tests.Infrastructure;

namespace Notify.Tests.Faults;

/// <summary>
/// Faults on the delivery path with real processes (redis-server, two Realtime instances, the Api):
/// Redis killed and restarted, a Realtime instance killed, the pub/sub connections cut, each under a
/// stream of creates. The promise checked is the product's: every notification the Api acknowledged
/// (201) reaches every connected client, once, in order. Each test starts and kills its own processes.
/// </summary>
public sealed class DeliveryFaultTests : IAsyncLifetime
{
    private static readonly TimeSpan DeliveryDeadline = TimeSpan.FromSeconds(30);
    private readonly List<LiveClient> _clients = [];
    private DeliveryRig _rig = null!;

    public async ValueTask InitializeAsync() => _rig = await DeliveryRig.StartAsync();

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }
        await _rig.DisposeAsync();
    }

    [Fact]
    public async Task RedisKilledAndRestarted_UnderSteadyCreates_EveryConnectedClientGetsEveryAcknowledgedNotificationOnceInOrder()
    {
        var users = NewUsers("redis", 4);
        var clients = await ConnectEverywhereAsync(users);
        var load = Produce(users, pause: TimeSpan.FromMilliseconds(25));

        await Task.Delay(TimeSpan.FromSeconds(2), Ct);
        await _rig.Redis.KillAsync();
        load.Phase = Phase.RedisDown;
        await Task.Delay(TimeSpan.FromSeconds(4), Ct);
        load.Phase = Phase.After;
        await _rig.Redis.RestartAsync();
        var back = Stopwatch.GetTimestamp();
        await Task.Delay(TimeSpan.FromSeconds(4), Ct);
        var acknowledged = await load.StopAsync();

        Assert.True(load.WhileDown.Count >= users.Length, $"only {load.WhileDown.Count} creates were acknowledged while Redis was down");
        await AssertEveryClientGotEverythingOnceInOrderAsync(clients, acknowledged, reconnectsAllowed: false);
        // Everything acknowledged during the outage reached every client within seconds of Redis being back.
        var caughtUp = clients.SelectMany(c => load.WhileDown.Where(n => n.User == c.User).Select(n => Stopwatch.GetElapsedTime(back, c.ArrivedAt(n.Id)!.Value))).Max();
        TestContext.Current.TestOutputHelper?.WriteLine($"{load.WhileDown.Count} notifications created while Redis was down; every client had them {caughtUp.TotalMilliseconds:F0} ms after Redis was back");
        Assert.True(caughtUp < TimeSpan.FromSeconds(10), $"caught up only {caughtUp} after Redis was back");
        // And the Api published (and marked) everything that waited in its outbox, batch after batch.
        await WaitUntilOutboxIsEmptyAsync();
    }

    [Fact]
    public async Task RealtimeInstanceKilled_UnderLoad_ItsClientsResumeOnTheOtherWithNoLoss()
    {
        var users = NewUsers("replica", 4);
        var clients = new List<LiveClient>();
        foreach (var user in users)
        {
            clients.Add(await StartClientAsync(user, [_rig.A, _rig.B]));
        }
        var load = Produce(users, pause: TimeSpan.FromMilliseconds(20));

        await Task.Delay(TimeSpan.FromSeconds(2), Ct);
        await _rig.A.KillAsync();
        await Task.Delay(TimeSpan.FromSeconds(4), Ct);
        var acknowledged = await load.StopAsync();

        await AssertEveryClientGotEverythingOnceInOrderAsync(clients, acknowledged, reconnectsAllowed: true);
        Assert.All(clients, c => Assert.True(c.Connects >= 2, $"{c.User} never moved to the other instance"));
    }

    [Fact]
    public async Task PubSubConnectionsKilled_DuringABurst_NoNotificationOrChannelMessageIsLost()
    {
        var users = NewUsers("burst", 6);
        var channel = "public:burst-" + Guid.NewGuid().ToString("N")[..8];
        var clients = new List<LiveClient>();
        for (var i = 0; i < users.Length; i++)
        {
            clients.Add(await StartClientAsync(users[i], i % 2 == 0 ? [_rig.A, _rig.B] : [_rig.B, _rig.A], channel));
        }
        var load = Produce(users, pause: TimeSpan.Zero);
        var broadcasts = new List<string>();
        using var stopBroadcasts = new CancellationTokenSource();
        var broadcaster = Task.Run(async () =>
        {
            for (var i = 0; !stopBroadcasts.IsCancellationRequested; i++)
            {
                if (await _rig.BroadcastAsync(channel, $"m{i}", CancellationToken.None) is { } id)
                {
                    broadcasts.Add(id);
                }
            }
        }, Ct);

        long killed = 0;
        for (var round = 0; round < 6; round++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(400), Ct);
            killed += await _rig.KillPubSubConnectionsAsync();
        }
        await Task.Delay(TimeSpan.FromMilliseconds(400), Ct);
        await stopBroadcasts.CancelAsync();
        await broadcaster.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        var acknowledged = await load.StopAsync();

        // Two Realtime instances (and the Api) reconnect between rounds; a loaded machine may miss one.
        Assert.True(killed >= 6, $"killed only {killed} pub/sub connections in 6 rounds");
        Assert.True(broadcasts.Count > 10, $"only {broadcasts.Count} broadcasts were accepted");
        await AssertEveryClientGotEverythingOnceInOrderAsync(clients, acknowledged, reconnectsAllowed: false);
        foreach (var client in clients)
        {
            await client.WaitForAsync(broadcasts, c => c.Messages(channel), DeliveryDeadline);
            Assert.Equal(broadcasts, client.Messages(channel));
        }
    }

    [Fact]
    public async Task Outbox_NotificationStoredByAWriterThatDiedBeforePublishing_IsPublishedByTheApiSweep()
    {
        var user = NewUsers("orphan", 1)[0];
        var client = await StartClientAsync(user, [_rig.A, _rig.B]);
        // What a writer leaves behind when it dies between the insert and the publish.
        using var database = new SqliteDatabase(_rig.SqlitePath, TimeSpan.FromSeconds(10), 2, SqliteSynchronousMode.Normal);
        var orphan = new Notification { Id = new NotificationIds(TimeProvider.System).Next(), UserId = user, Type = "fault", Title = "orphan", CreatedAt = DateTimeOffset.UtcNow };
        var stored = (await new SqliteNotificationStore(database).CreateAsync(orphan, null, Ct)).Notification;

        // The rig's Api sweeps every second: a notification still waiting at two sweeps in a row goes out.
        await client.WaitForAsync([stored.Id], c => c.Notifications(), TimeSpan.FromSeconds(15));

        Assert.Equal([stored.Id], client.Notifications());
        // It is marked published just after it went out.
        await WaitUntilOutboxIsEmptyAsync();
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task WaitUntilOutboxIsEmptyAsync()
    {
        var deadline = Stopwatch.StartNew();
        while (await _rig.UnpublishedCountAsync(Ct) is var waiting and > 0)
        {
            Assert.True(deadline.Elapsed < DeliveryDeadline, $"{waiting} notifications still wait in the outbox");
            await Task.Delay(200, Ct);
        }
    }

    private static string[] NewUsers(string prefix, int count) =>
        [.. Enumerable.Range(0, count).Select(i => $"{prefix}{i}-{Guid.NewGuid():N}"[..24])];

    /// <summary>Every user gets one stream on each instance.</summary>
    private async Task<List<LiveClient>> ConnectEverywhereAsync(string[] users)
    {
        var clients = new List<LiveClient>();
        foreach (var user in users)
        {
            clients.Add(await StartClientAsync(user, [_rig.A, _rig.B]));
            clients.Add(await StartClientAsync(user, [_rig.B, _rig.A]));
        }
        return clients;
    }

    private async Task<LiveClient> StartClientAsync(string user, ServiceProcess[] instances, params string[] channels)
    {
        var client = await LiveClient.StartAsync(user, instances, channels);
        _clients.Add(client);
        return client;
    }

    /// <summary>One producer per user creating notifications one after another through the Api.</summary>
    private Load Produce(string[] users, TimeSpan pause)
    {
        var load = new Load();
        foreach (var user in users)
        {
            var acknowledged = load.Acknowledged.GetOrAdd(user, _ => []);
            load.Producers.Add(Task.Run(async () =>
            {
                for (var i = 0; !load.Stop.IsCancellationRequested; i++)
                {
                    var startedIn = load.Phase;
                    if (await _rig.CreateAsync(user, $"n{i}", CancellationToken.None) is { } id)
                    {
                        lock (acknowledged)
                        {
                            acknowledged.Add(id);
                        }
                        if (startedIn == Phase.RedisDown)
                        {
                            load.WhileDown.Add((user, id));
                        }
                    }
                    if (pause > TimeSpan.Zero)
                    {
                        await Task.Delay(pause, CancellationToken.None);
                    }
                }
            }, Ct));
        }
        return load;
    }

    private static async Task AssertEveryClientGotEverythingOnceInOrderAsync(
        List<LiveClient> clients, IReadOnlyDictionary<string, List<string>> acknowledged, bool reconnectsAllowed)
    {
        var watch = Stopwatch.StartNew();
        foreach (var client in clients)
        {
            var expected = acknowledged[client.User];
            Assert.NotEmpty(expected);
            await client.WaitForAsync(expected, c => c.Notifications(), DeliveryDeadline - watch.Elapsed);
            var received = client.Notifications();
            var missing = expected.Except(received).ToList();
            var duplicates = received.GroupBy(id => id).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
            Assert.True(missing.Count == 0, $"{client.User}: {missing.Count} of {expected.Count} acknowledged notifications never arrived ({string.Join(", ", missing.Take(3))})");
            Assert.True(duplicates.Count == 0, $"{client.User}: {duplicates.Count} notifications arrived more than once");
            var at = Enumerable.Range(0, expected.Count).First(i => i == expected.Count - 1 || expected[i] != received[i]);
            Assert.True(expected.SequenceEqual(received), $"{client.User}: out of order from index {at}: expected {string.Join(" ", expected.Skip(at).Take(8))}, received {string.Join(" ", received.Skip(at).Take(8))}");
            if (!reconnectsAllowed)
            {
                Assert.Equal(1, client.Connects);
            }
        }
    }

    private enum Phase
    {
        Before,
        RedisDown,
        After,
    }

    private sealed class Load
    {
        public ConcurrentDictionary<string, List<string>> Acknowledged { get; } = new(StringComparer.Ordinal);
        public List<Task> Producers { get; } = [];
        public CancellationTokenSource Stop { get; } = new();
        private volatile Phase _phase;

        public Phase Phase
        {
            get => _phase;
            set => _phase = value;
        }

        /// <summary>Creates started while Redis was down and acknowledged.</summary>
        public ConcurrentBag<(string User, string Id)> WhileDown { get; } = [];

        public async Task<IReadOnlyDictionary<string, List<string>>> StopAsync()
        {
            await Stop.CancelAsync();
            await Task.WhenAll(Producers).WaitAsync(TimeSpan.FromSeconds(60));
            Stop.Dispose();
            return Acknowledged;
        }
    }
}
