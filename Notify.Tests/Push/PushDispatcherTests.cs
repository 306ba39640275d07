using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Notify.Core.Json;
using Notify.Core.Messaging;
using Notify.Core.Notifications;
using Notify.Core.Presence;
using Notify.Core.Push;
using Notify.Tests.Infrastructure;
using Notify.Worker.Push;
using StackExchange.Redis;

namespace Notify.Tests.Push;

/// <summary>
/// The Worker's <see cref="PushDispatcher"/> on a real Redis: a published notification reaches the push
/// service only when presence shows no live connection of its user (the default <see cref="IPushPolicy"/>).
/// </summary>
public sealed class PushDispatcherTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Published_UserOnline_NotPushed_UserOffline_Pushed()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var channels = new RedisChannels();
        var presence = new RedisPresence(connection, channels, TimeProvider.System);
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
        }, TimeSpan.FromMinutes(5), ct);

        await using var senderTests = new WebPushSenderTests();
        await senderTests.InitializeAsync();
        var onlineBrowser = await senderTests.SubscribeAsync(online);
        var offlineBrowser = await senderTests.SubscribeAsync(offline);
        using var sender = senderTests.Sender();
        // One at a time: when the offline user's push arrives, the online user's notification was decided.
        var options = Options.Create(new PushOptions
        {
            VapidPublicKey = senderTests.Vapid.Public,
            VapidPrivateKey = senderTests.Vapid.Private,
            Subject = "mailto:ops@notify.test",
            Concurrency = 1,
        });
        using var dispatcher = new PushDispatcher(connection, channels, new PresencePushPolicy(presence), sender, options, NullLogger<PushDispatcher>.Instance);
        await dispatcher.StartAsync(ct);
        try
        {
            await WaitUntilAsync(async () => (long)(await connection.GetDatabase().ExecuteAsync("PUBSUB", "NUMPAT")) >= 1);

            var first = await PublishAsync(connection, channels, online);
            var second = await PublishAsync(connection, channels, offline);

            await WaitUntilAsync(() => Task.FromResult(!offlineBrowser.Requests.IsEmpty));
            Assert.Contains(second.Id, Assert.Single(offlineBrowser.Requests).Payload, StringComparison.Ordinal);
            Assert.Empty(onlineBrowser.Requests);
            Assert.NotEqual(first.Id, second.Id);
        }
        finally
        {
            await dispatcher.StopAsync(CancellationToken.None);
            await presence.RemoveAsync(instance, CancellationToken.None);
        }
    }

    [Fact]
    public void Parse_OtherFramesAndGarbage_AreNotNotifications()
    {
        Assert.Null(PushDispatcher.Parse(Frames.Serialize("read", new { id = "x" }).ToArray()));
        Assert.Null(PushDispatcher.Parse("not json"u8.ToArray()));
        Assert.Null(PushDispatcher.Parse(RedisValue.Null));
    }

    private static async Task<Notification> PublishAsync(IConnectionMultiplexer connection, RedisChannels channels, string user)
    {
        var notification = new Notification
        {
            Id = Guid.NewGuid().ToString("N"),
            UserId = user,
            Type = "test",
            Title = "for " + user,
            CreatedAt = TimeProvider.System.GetUtcNow(),
        };
        await connection.GetSubscriber().PublishAsync(
            RedisChannel.Literal(channels.For(BusTopic.User(user))),
            Frames.Serialize("notification", notification).ToArray());
        return notification;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(watch.Elapsed < Wait, "condition not met in time");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }
}
