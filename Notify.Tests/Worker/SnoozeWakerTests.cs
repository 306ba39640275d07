using Notify.Core.Notifications;
using Notify.Tests.Infrastructure;

namespace Notify.Tests.Worker;

/// <summary>Snoozed notifications come back through real Worker processes: pushed once each, by one of several Workers, also across a restart.</summary>
public sealed class SnoozeWakerTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<List<string>> SnoozeAsync(INotificationStore store, string user, int count, DateTimeOffset until)
    {
        var ids = new NotificationIds(TimeProvider.System);
        var created = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var notification = new Notification { Id = ids.Next(), UserId = user, Type = "reminder", Title = $"r{i}", CreatedAt = DateTimeOffset.UtcNow };
            await store.CreateAsync(notification, null, Ct);
            await store.MarkReadAsync(user, notification.Id, DateTimeOffset.UtcNow, Ct);
            Assert.True(await store.SnoozeAsync(user, notification.Id, until, Ct));
            created.Add(notification.Id);
        }
        return created;
    }

    [Fact]
    public async Task DueSnoozes_TwoWorkersThenARestart_EachPushedExactlyOnceAndBackUnread()
    {
        await using var cluster = await WorkerCluster.CreateAsync(redis, new Dictionary<string, string>
        {
            ["Worker:SnoozePollInterval"] = "00:00:00.200",
            ["Worker:SnoozeBatchSize"] = "3",
        });
        var store = cluster.OpenStore();
        await store.InitializeAsync(Ct);
        var recorder = await cluster.RecordUserFramesAsync();
        var user = "snoozer-" + Guid.NewGuid().ToString("N");
        string[] Pushed() => [.. recorder.For(user).Where(f => f.Type == "notification").Select(f => f.Data.GetProperty("id").GetString()!)];

        // Not due yet while both Workers start; then due together, so both Workers race for them.
        var first = await SnoozeAsync(store, user, 30, DateTimeOffset.UtcNow.AddSeconds(3));
        await cluster.StartWorkerAsync();
        await cluster.StartWorkerAsync();
        await WorkerCluster.WaitUntilAsync(() => Task.FromResult(Pushed().Length >= first.Count), TimeSpan.FromSeconds(60), "30 snoozes pushed");

        // A restart: both Workers stop; snoozes falling due meanwhile are pushed by the next Worker.
        foreach (var worker in cluster.Workers.ToList())
        {
            await worker.StopAsync(TimeSpan.FromSeconds(30));
        }
        var second = await SnoozeAsync(store, user, 10, DateTimeOffset.UtcNow);
        await cluster.StartWorkerAsync();
        await WorkerCluster.WaitUntilAsync(() => Task.FromResult(Pushed().Length >= first.Count + second.Count), TimeSpan.FromSeconds(60), "10 more pushed after the restart");
        // A last one woken after everything else: any repeat of an earlier push would have come before it.
        var sentinel = await SnoozeAsync(store, user, 1, DateTimeOffset.UtcNow);
        await WorkerCluster.WaitUntilAsync(() => Task.FromResult(Pushed().Contains(sentinel[0])), TimeSpan.FromSeconds(60), "sentinel pushed");

        Assert.Equal(first.Concat(second).Concat(sentinel).Order(), Pushed().Order());
        var page = await store.ListAsync(user, new NotificationQuery { Limit = 100 }, Ct);
        Assert.Equal(41, page.Items.Count);
        Assert.All(page.Items, n => Assert.True(n.Status == NotificationStatus.Unread && n.SnoozedUntil is null && n.ReadAt is null, n.Id));
        Assert.Empty((await store.ListAsync(user, new NotificationQuery { View = InboxView.Snoozed }, Ct)).Items);
    }
}
