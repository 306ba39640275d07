using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Notify.Core.Json;
using Notify.Core.Messaging;
using Notify.Core.Notifications;
using Notify.Core.Presence;
using Notify.Core.Push;
using Notify.Core.Storage;
using Notify.Core.Storage.Sqlite;
using Notify.Tests.Infrastructure;
using Notify.Worker.Push;
using StackExchange.Redis;

namespace Notify.Tests.Push;

/// <summary>
/// The Worker's <see cref="PushDispatcher"/> on a real Redis, a real SQLite notification store (the push
/// outbox) and a local push service: one push per notification however many Workers run, pushes of
/// notifications created before any Worker ran, the age bound, and the default presence policy.
/// </summary>
public sealed class PushDispatcherTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"notify-push-outbox-{Guid.NewGuid():N}.db");
    private readonly List<IAsyncDisposable> _cleanup = [];
    private WebPushSenderTests _push = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _push = new WebPushSenderTests();
        await _push.InitializeAsync();
        await Store().InitializeAsync(Ct);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var item in Enumerable.Reverse(_cleanup))
        {
            await item.DisposeAsync();
        }
        await _push.DisposeAsync();
        TestEnvironment.DeleteSqliteFiles(_path);
    }

    [Fact]
    public async Task TwoWorkers_ManyNotifications_EachPushedExactlyOnce()
    {
        var user = "two-" + Guid.NewGuid().ToString("N");
        var browser = await _push.SubscribeAsync(user);
        var store = Store();
        var connection = await ConnectAsync();
        var first = await StartWorkerAsync(new AlwaysPush());
        var second = await StartWorkerAsync(new AlwaysPush());

        var ids = new List<string>();
        for (var i = 0; i < 30; i++)
        {
            ids.Add((await CreateAsync(store, connection, user, $"n{i}")).Id);
        }

        await WaitUntilAsync(async () => !await AnyWaitingAsync());
        var pushed = browser.Requests.Select(r => r.Payload!).ToList();
        Assert.Equal(ids.Count, pushed.Count);
        Assert.All(ids, id => Assert.Single(pushed, p => p.Contains(id, StringComparison.Ordinal)));
        Assert.True(first.Claimed > 0 || second.Claimed > 0);
    }

    [Fact]
    public async Task WorkerStartedAfterTheCreate_PushesIt_ButNotOneOlderThanMaxAge()
    {
        var user = "late-" + Guid.NewGuid().ToString("N");
        var browser = await _push.SubscribeAsync(user);
        var store = Store();
        var connection = await ConnectAsync();
        // Created (and published) while no Worker runs: nobody hears the publication.
        var old = await CreateAsync(store, connection, user, "too old", TimeProvider.System.GetUtcNow().AddHours(-2));
        var missed = await CreateAsync(store, connection, user, "while no worker ran");

        await StartWorkerAsync(new AlwaysPush(), maxAge: TimeSpan.FromHours(1));

        await WaitUntilAsync(async () => !browser.Requests.IsEmpty && !await AnyWaitingAsync());
        Assert.Contains(missed.Id, Assert.Single(browser.Requests).Payload, StringComparison.Ordinal);
        Assert.DoesNotContain(browser.Requests, r => r.Payload!.Contains(old.Id, StringComparison.Ordinal));
    }

    [Fact]
    public async Task PresencePolicy_UserOnline_NotPushed_UserOffline_Pushed()
    {
        var connection = await ConnectAsync();
        var presence = new RedisPresence(connection, new RedisChannels(), TimeProvider.System);
        var online = "online-" + Guid.NewGuid().ToString("N");
        var offline = "offline-" + Guid.NewGuid().ToString("N");
        var instance = "rt-" + Guid.NewGuid().ToString("N");
        await presence.PublishAsync(new InstancePresence
        {
            Id = instance,
            StartedAt = TimeProvider.System.GetUtcNow(),
            Connections = 1,
            UserConnections = 1,
            Users = new Dictionary<string, int> { [online] = 1 },
        }, TimeSpan.FromMinutes(5), Ct);
        try
        {
            var onlineBrowser = await _push.SubscribeAsync(online);
            var offlineBrowser = await _push.SubscribeAsync(offline);
            var store = Store();
            await StartWorkerAsync(new PresencePushPolicy(presence));

            await CreateAsync(store, connection, online, "for the online user");
            var second = await CreateAsync(store, connection, offline, "for the offline user");

            await WaitUntilAsync(async () => !offlineBrowser.Requests.IsEmpty && !await AnyWaitingAsync());
            Assert.Contains(second.Id, Assert.Single(offlineBrowser.Requests).Payload, StringComparison.Ordinal);
            Assert.Empty(onlineBrowser.Requests);
        }
        finally
        {
            await presence.RemoveAsync(instance, CancellationToken.None);
        }
    }

    [Fact]
    public void IsNotification_OtherFramesAndGarbage_AreNot()
    {
        Assert.True(PushDispatcher.IsNotification(Frames.Serialize("notification", new { id = "x" }).ToArray()));
        Assert.False(PushDispatcher.IsNotification(Frames.Serialize("read", new { id = "x" }).ToArray()));
        Assert.False(PushDispatcher.IsNotification("not json"u8.ToArray()));
        Assert.False(PushDispatcher.IsNotification(RedisValue.Null));
    }

    /// <summary>A store of its own on the shared file, as another process has.</summary>
    private SqliteNotificationStore Store()
    {
        var database = new SqliteDatabase(_path, TimeSpan.FromSeconds(10), 4, SqliteSynchronousMode.Normal);
        _cleanup.Add(new Disposer(() => database.Dispose()));
        return new SqliteNotificationStore(database);
    }

    private async Task<ConnectionMultiplexer> ConnectAsync()
    {
        var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        _cleanup.Add(connection);
        return connection;
    }

    /// <summary>A Worker's dispatcher: its own store connection and Redis connection, polling every 100 ms.</summary>
    private async Task<CountingOutbox> StartWorkerAsync(IPushPolicy policy, TimeSpan? maxAge = null)
    {
        var outbox = new CountingOutbox(Store());
        var options = Options.Create(new PushOptions
        {
            VapidPublicKey = _push.Vapid.Public,
            VapidPrivateKey = _push.Vapid.Private,
            Subject = "mailto:ops@notify.test",
            PollInterval = TimeSpan.FromMilliseconds(100),
            BatchSize = 7,
            MaxAge = maxAge ?? TimeSpan.FromHours(1),
        });
        var sender = _push.Sender();
        var dispatcher = new PushDispatcher(outbox, await ConnectAsync(), new RedisChannels(), policy, sender, options, TimeProvider.System, NullLogger<PushDispatcher>.Instance);
        await dispatcher.StartAsync(Ct);
        _cleanup.Add(new Disposer(async () =>
        {
            await dispatcher.StopAsync(CancellationToken.None);
            dispatcher.Dispose();
            sender.Dispose();
        }));
        return outbox;
    }

    /// <summary>Stores a notification and publishes its frame, as the Api does.</summary>
    private static async Task<Notification> CreateAsync(SqliteNotificationStore store, IConnectionMultiplexer connection, string user, string title, DateTimeOffset? createdAt = null)
    {
        var notification = new Notification
        {
            Id = new NotificationIds(TimeProvider.System).Next(),
            UserId = user,
            Type = "test",
            Title = title,
            CreatedAt = createdAt ?? TimeProvider.System.GetUtcNow(),
        };
        var stored = (await store.CreateAsync(notification, null, Ct)).Notification;
        await connection.GetSubscriber().PublishAsync(
            RedisChannel.Literal(new RedisChannels().For(BusTopic.User(user))),
            Frames.Serialize("notification", stored).ToArray());
        return stored;
    }

    /// <summary>Whether any notification still waits for push (read straight from the file).</summary>
    private async Task<bool> AnyWaitingAsync()
    {
        await using var sqlite = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_path}");
        await sqlite.OpenAsync(Ct);
        await using var command = sqlite.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM notifications WHERE push_due IS NOT NULL";
        return (long)(await command.ExecuteScalarAsync(Ct))! > 0;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(watch.Elapsed < Wait, "condition not met in time");
            await Task.Delay(50, Ct);
        }
    }

    private sealed class AlwaysPush : IPushPolicy
    {
        public ValueTask<bool> ShouldPushAsync(Notification notification, CancellationToken cancellationToken) => ValueTask.FromResult(true);
    }

    /// <summary>The store's outbox, counting what this Worker claimed.</summary>
    private sealed class CountingOutbox(IPushOutbox inner) : IPushOutbox
    {
        private int _claimed;

        public int Claimed => Volatile.Read(ref _claimed);

        public async Task<PushClaim> ClaimAsync(DateTimeOffset now, DateTimeOffset oldest, DateTimeOffset leaseUntil, int limit, CancellationToken cancellationToken)
        {
            var claim = await inner.ClaimAsync(now, oldest, leaseUntil, limit, cancellationToken);
            Interlocked.Add(ref _claimed, claim.Notifications.Count);
            return claim;
        }

        public Task CompleteAsync(IReadOnlyCollection<NotificationKey> notifications, CancellationToken cancellationToken) =>
            inner.CompleteAsync(notifications, cancellationToken);
    }

    private sealed class Disposer(Func<ValueTask> dispose) : IAsyncDisposable
    {
        public Disposer(Action dispose) : this(() => { dispose(); return ValueTask.CompletedTask; })
        {
        }

        public ValueTask DisposeAsync() => dispose();
    }
}
