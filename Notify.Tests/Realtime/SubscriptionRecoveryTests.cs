using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Notify.Core.Json;
using Notify.Core.Messaging;
using Notify.Core.Notifications;
using Notify.Core.Tasks;
using StackExchange.Redis;

namespace Notify.Tests.Realtime;

/// <summary>
/// What a Realtime instance does when its Redis subscriptions come back after the pub/sub connection was
/// cut (<c>CLIENT KILL TYPE pubsub</c>): whatever was published meanwhile never reached it, so it catches
/// every open stream up from the durable source (the store, the channel history, the progress snapshot).
/// The "missed" publications are made deterministic by writing them while no subscriber is connected.
/// </summary>
public sealed class SubscriptionRecoveryTests(RealtimeClusterFixture cluster) : IClassFixture<RealtimeClusterFixture>
{
    private static string NewUser(string name) => RealtimeClusterFixture.NewUser(name);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Notifications_StoredWhileSubscriptionsWereCut_ReachEveryOpenStreamOnceInOrder()
    {
        var user = NewUser("cut");
        await using var onA = await ConnectedAsync(cluster.A, user);
        await using var onB = await ConnectedAsync(cluster.B, user);
        var first = await cluster.Backplane.NotifyAsync(user, "before");
        Assert.Equal(first.Id, await NextNotificationIdAsync(onA));
        Assert.Equal(first.Id, await NextNotificationIdAsync(onB));

        // Stored, but their publications never reach an instance: the subscriptions are cut right after.
        var missed = new List<string>
        {
            (await cluster.Backplane.NotifyAsync(user, "missed 1", publish: false)).Id,
            (await cluster.Backplane.NotifyAsync(user, "missed 2", publish: false)).Id,
        };
        await KillPubSubAsync();
        missed.Add((await cluster.Backplane.NotifyAsync(user, "after")).Id);

        foreach (var client in new[] { onA, onB })
        {
            var received = new List<string>();
            while (received.Count < missed.Count)
            {
                received.Add(await NextNotificationIdAsync(client));
            }
            Assert.Equal(missed, received);
            await AssertNothingElseAsync(client);
        }
    }

    [Theory]
    [InlineData(20, false)]
    [InlineData(21, true)]
    public async Task Notifications_MissedWhileSubscriptionsWereCut_UpToMaxReplayAreReplayedBeyondItResync(int missedCount, bool resync)
    {
        // The cluster runs with Realtime:MaxReplay = 20.
        var user = NewUser("many");
        await using var client = await ConnectedAsync(cluster.A, user);
        var missed = new List<string>();
        for (var i = 0; i < missedCount; i++)
        {
            missed.Add((await cluster.Backplane.NotifyAsync(user, $"missed {i}", publish: false)).Id);
        }

        await KillPubSubAsync();

        if (resync)
        {
            var frame = await NextAsync(client);
            Assert.Equal("resync", frame.Type);
            Assert.Equal("too_many_missed", frame.Data.GetProperty("reason").GetString());
        }
        else
        {
            var received = new List<string>();
            while (received.Count < missed.Count)
            {
                received.Add(await NextNotificationIdAsync(client));
            }
            Assert.Equal(missed, received);
        }
        await AssertNothingElseAsync(client);
    }

    [Fact]
    public async Task ChannelEntry_AppendedWhileSubscriptionsWereCut_ReachesTheSubscriberOnceInOrder()
    {
        var channel = "public:cut-" + Guid.NewGuid().ToString("N")[..8];
        await using var client = await ConnectedAsync(cluster.A, NewUser("chan"));
        await client.SendAsync(new { type = "subscribe", channel });
        Assert.Equal("subscribed", (await NextAsync(client)).Type);
        var before = await cluster.Backplane.PublishToChannelAsync(channel, new { n = 0 });
        Assert.Equal(before.Id, (await client.NextOfTypeAsync("message", Deadline)).Data.GetProperty("id").GetString());

        // One transaction: the subscribers are gone before the entry is appended, so no one hears of it live.
        var topic = BusTopic.Channel(channel);
        var db = cluster.Backplane.Redis.GetDatabase();
        var transaction = db.CreateTransaction();
        _ = transaction.ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
        var appended = transaction.StreamAddAsync(new RedisChannels().History(topic),
        [
            // The frame as the bus keeps it: the bytes before and after its own stream id.
            new NameValueEntry("p", "{\"type\":\"message\",\"data\":{\"channel\":\"" + channel + "\",\"id\":\""),
            new NameValueEntry("s", "\",\"payload\":{\"n\":1},\"created_at\":\"2026-11-25T12:00:00.000Z\"}}"),
        ]);
        Assert.True(await transaction.ExecuteAsync());
        var missedId = (string)(await appended)!;
        var after = await cluster.Backplane.PublishToChannelAsync(channel, new { n = 2 });

        var missed = await client.NextOfTypeAsync("message", Deadline);
        Assert.Equal(missedId, missed.Data.GetProperty("id").GetString());
        Assert.Equal(1, missed.Data.GetProperty("payload").GetProperty("n").GetInt32());
        Assert.Equal(after.Id, (await client.NextOfTypeAsync("message", Deadline)).Data.GetProperty("id").GetString());
        await AssertNothingElseAsync(client);
    }

    [Fact]
    public async Task TaskProgress_ChangedWhileSubscriptionsWereCut_CurrentSnapshotIsSentAgain()
    {
        var user = NewUser("prog");
        var task = await cluster.Backplane.Queue.EnqueueAsync(user, "demo", null, Ct);
        try
        {
            await using var client = await WsClient.ConnectAsync(cluster.A, $"/api/ws/tasks/{task.Id}", TestTokens.For(user));
            Assert.Equal("connected", (await NextAsync(client)).Type);
            Assert.Equal(0, (await client.NextOfTypeAsync("progress", Deadline)).Data.GetProperty("progress").GetDouble());

            var snapshot = new TaskProgress { TaskId = task.Id, Status = TaskState.Running, Step = 1, TotalSteps = 2, Progress = 50, Message = "half", Timestamp = DateTimeOffset.UtcNow };
            var transaction = cluster.Backplane.Redis.GetDatabase().CreateTransaction();
            _ = transaction.ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
            _ = transaction.StringSetAsync(RedisProgressStore.SnapshotKey(new QueueOptions().KeyPrefix, task.Id),
                JsonSerializer.SerializeToUtf8Bytes(snapshot, NotifyJson.Options), TimeSpan.FromMinutes(5));
            Assert.True(await transaction.ExecuteAsync());

            var progress = await client.NextOfTypeAsync("progress", Deadline);
            Assert.Equal(50, progress.Data.GetProperty("progress").GetDouble());
            Assert.Equal("half", progress.Data.GetProperty("message").GetString());
        }
        finally
        {
            await cluster.Backplane.Queue.CancelAsync(task.Id, CancellationToken.None);
        }
    }

    [Fact]
    public async Task Resume_AnotherWriterWithASlowClockCommittedLater_ReplayIncludesIt()
    {
        var user = NewUser("clock");
        // Two writers (two Api replicas, or the Api and the Worker) whose clocks disagree by an hour.
        var now = DateTimeOffset.UtcNow;
        var ahead = new NotificationIds(new FakeTimeProvider(now));
        var behind = new NotificationIds(new FakeTimeProvider(now.AddHours(-1)));

        string seen;
        await using (var client = await ConnectedAsync(cluster.A, user))
        {
            var first = await CreateAndPublishAsync(user, ahead, "from the writer ahead");
            seen = await NextNotificationIdAsync(client);
            Assert.Equal(first.Id, seen);
        }

        // Committed after the client saw `seen`, by the writer whose clock is behind.
        var later = await CreateAndPublishAsync(user, behind, "from the writer behind");

        await using var again = await WsClient.ConnectAsync(cluster.B, "/api/ws/notifications", TestTokens.For(user), "last_id=" + seen);
        Assert.Equal("connected", (await NextAsync(again)).Type);
        Assert.Equal(later.Id, await NextNotificationIdAsync(again));
        Assert.True(LiveOrder(later.Id, seen) > 0, "a later commit must have a greater id");
    }

    private async Task<Notification> CreateAndPublishAsync(string user, NotificationIds ids, string title)
    {
        var draft = new Notification { Id = ids.Next(), UserId = user, Type = "test", Title = title, CreatedAt = DateTimeOffset.UtcNow };
        var stored = (await cluster.Backplane.Store.CreateAsync(draft, null, Ct)).Notification;
        await cluster.Backplane.Bus.PublishAsync(BusTopic.User(user), Frames.Serialize("notification", stored), Ct);
        return stored;
    }

    private static int LiveOrder(string a, string b) => a.Length != b.Length ? a.Length - b.Length : string.CompareOrdinal(a, b);

    private async Task KillPubSubAsync()
    {
        var killed = (long)await cluster.Backplane.Redis.GetDatabase().ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
        Assert.True(killed >= 2, $"expected both instances' pub/sub connections, killed {killed}");
    }

    private static async Task<WsClient> ConnectedAsync(Infrastructure.ServiceProcess instance, string user)
    {
        var client = await WsClient.ConnectAsync(instance, "/api/ws/notifications", TestTokens.For(user));
        Assert.Equal("connected", (await NextAsync(client)).Type);
        return client;
    }

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    /// <summary>The next frame that is not a heartbeat, within <see cref="Deadline"/> (heartbeats keep arriving meanwhile).</summary>
    private static Task<Received> NextAsync(WsClient client) => client.NextAsync().WaitAsync(Deadline, Ct);

    private static async Task<string> NextNotificationIdAsync(WsClient client)
    {
        var frame = await NextAsync(client);
        Assert.Equal("notification", frame.Type);
        return frame.Data.GetProperty("id").GetString()!;
    }

    /// <summary>The next frame answers a ping: nothing (no duplicate) was queued before it.</summary>
    private static async Task AssertNothingElseAsync(WsClient client)
    {
        await client.SendAsync(new { type = "ping" });
        Assert.Equal("pong", (await NextAsync(client)).Type);
    }
}
