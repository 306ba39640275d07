using System.Text.Json;
using Notify.Core.Json;
using Notify.Core.Messaging;
using Notify.Tests.Infrastructure;

namespace Notify.Tests.Realtime;

/// <summary>The notification WebSocket (PROTOCOL.md §3) against two real Realtime instances on one Redis.</summary>
public sealed class NotificationSocketTests(RealtimeClusterFixture cluster) : IClassFixture<RealtimeClusterFixture>
{
    private static string NewUser(string name) => RealtimeClusterFixture.NewUser(name);

    [Fact]
    public async Task Connect_ValidToken_SendsConnectedWithUnreadCount()
    {
        var user = NewUser("conn");
        await cluster.Backplane.NotifyAsync(user, "one", publish: false);
        await cluster.Backplane.NotifyAsync(user, "two", publish: false);

        await using var client = await WsClient.ConnectAsync(cluster.A, "/api/ws/notifications", TestTokens.For(user));
        var connected = await client.NextAsync();

        Assert.Equal("connected", connected.Type);
        Assert.Equal(user, connected.Data.GetProperty("user_id").GetString());
        Assert.False(string.IsNullOrEmpty(connected.Data.GetProperty("connection_id").GetString()));
        Assert.Equal(2, connected.Data.GetProperty("unread_count").GetInt64());
        Assert.Equal(2, connected.Data.GetProperty("heartbeat_interval_s").GetDouble());
        Assert.True(connected.Data.TryGetProperty("server_time", out _));
    }

    [Fact]
    public async Task BusPublish_ClientsOnBothInstances_BothReceiveTheNotification()
    {
        var user = NewUser("cross");
        await using var onA = await WsClient.ConnectAsync(cluster.A, "/api/ws/notifications", TestTokens.For(user));
        await using var onB = await WsClient.ConnectAsync(cluster.B, "/api/ws/notifications", TestTokens.For(user));
        Assert.Equal("connected", (await onA.NextAsync()).Type);
        Assert.Equal("connected", (await onB.NextAsync()).Type);

        var sent = await cluster.Backplane.NotifyAsync(user, "hello");

        foreach (var client in new[] { onA, onB })
        {
            var frame = await client.NextAsync();
            Assert.Equal("notification", frame.Type);
            Assert.Equal(sent.Id, frame.Data.GetProperty("id").GetString());
            Assert.Equal("hello", frame.Data.GetProperty("title").GetString());
        }
    }

    [Fact]
    public async Task Notification_OtherUsersTopic_IsNotDelivered()
    {
        var user = NewUser("own");
        await using var client = await WsClient.ConnectAsync(cluster.B, "/api/ws/notifications", TestTokens.For(user));
        await client.NextAsync();

        await cluster.Backplane.NotifyAsync(NewUser("other"), "not yours");
        var mine = await cluster.Backplane.NotifyAsync(user, "yours");

        var frame = await client.NextAsync();
        Assert.Equal(mine.Id, frame.Data.GetProperty("id").GetString());
    }

    [Fact]
    public async Task LastId_MissedNotificationsAndLiveOnes_EachArrivesOnceInOrder()
    {
        var user = NewUser("replay");
        var stored = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            stored.Add((await cluster.Backplane.NotifyAsync(user, $"n{i}")).Id);
        }

        // Notifications keep being created (and published) while the client connects and replays.
        var live = Task.Run(async () =>
        {
            var ids = new List<string>();
            for (var i = 0; i < 10; i++)
            {
                ids.Add((await cluster.Backplane.NotifyAsync(user, $"live{i}")).Id);
            }
            return ids;
        }, TestContext.Current.CancellationToken);
        await using var client = await WsClient.ConnectAsync(cluster.A, "/api/ws/notifications", TestTokens.For(user), "last_id=" + stored[1]);
        var liveIds = await live.WaitAsync(RealtimeHost.Wait, TestContext.Current.CancellationToken);

        Assert.Equal("connected", (await client.NextAsync()).Type);
        var expected = stored.Skip(2).Concat(liveIds).ToList();
        var received = new List<string>();
        while (received.Count < expected.Count)
        {
            var frame = await client.NextAsync();
            Assert.Equal("notification", frame.Type);
            received.Add(frame.Data.GetProperty("id").GetString()!);
        }
        Assert.Equal(expected, received);

        // Nothing else (no duplicate) follows: the next frame is the answer to a ping.
        await client.SendAsync(new { type = "ping" });
        var next = await client.NextAsync();
        Assert.True(next.Type == "pong", $"expected pong after {string.Join(", ", received)}; got {next}");
    }

    [Fact]
    public async Task LastId_MoreThanMaxReplayMissed_SendsResync()
    {
        var user = NewUser("resync");
        var first = await cluster.Backplane.NotifyAsync(user, "first", publish: false);
        for (var i = 0; i < 21; i++)
        {
            await cluster.Backplane.NotifyAsync(user, $"n{i}", publish: false);
        }

        await using var client = await WsClient.ConnectAsync(cluster.B, "/api/ws/notifications", TestTokens.For(user), "last_id=" + first.Id);
        Assert.Equal("connected", (await client.NextAsync()).Type);
        var resync = await client.NextAsync();

        Assert.Equal("resync", resync.Type);
        Assert.Equal("too_many_missed", resync.Data.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Ping_JsonAndBare_AnsweredWithPong()
    {
        await using var client = await WsClient.ConnectAsync(cluster.A, "/api/ws/notifications", TestTokens.For(NewUser("ping")));
        await client.NextAsync();

        await client.SendAsync(new { type = "ping" });
        var pong = await client.NextAsync();
        Assert.Equal("pong", pong.Type);
        Assert.True(pong.Json.TryGetProperty("timestamp", out _));

        await client.SendAsync("ping");
        Assert.Equal("pong", (await client.NextAsync()).Text);
    }

    [Fact]
    public async Task Heartbeat_IdleConnection_ReceivesHeartbeatWithTimestamp()
    {
        await using var client = await WsClient.ConnectAsync(cluster.A, "/api/ws/notifications", TestTokens.For(NewUser("hb")));
        await client.NextAsync();

        var heartbeat = await client.NextOfTypeAsync("heartbeat", TimeSpan.FromSeconds(6));

        Assert.Equal("heartbeat", heartbeat.Type);
        Assert.True(heartbeat.Json.TryGetProperty("timestamp", out _));
    }

    [Theory]
    [InlineData("{not json", "bad_request")]
    [InlineData("{\"type\":\"dance\"}", "unknown_type")]
    [InlineData("{\"channel\":\"public:x\"}", "bad_request")]
    [InlineData("{\"type\":\"subscribe\"}", "bad_request")]
    [InlineData("{\"type\":\"subscribe\",\"channel\":\"Bad Name!\"}", "bad_request")]
    [InlineData("{\"type\":\"subscribe\",\"channel\":\"admin\"}", "forbidden")]
    [InlineData("{\"type\":\"subscribe\",\"channel\":\"admin:alerts\"}", "forbidden")]
    [InlineData("{\"type\":\"subscribe\",\"channel\":\"user:somebody-else\"}", "forbidden")]
    [InlineData("{\"type\":\"subscribe\",\"channel\":\"private:x\"}", "forbidden")]
    public async Task ClientFrame_Rejected_ErrorFrameAndConnectionStaysOpen(string frame, string code)
    {
        await using var client = await WsClient.ConnectAsync(cluster.B, "/api/ws/notifications", TestTokens.For(NewUser("bad")));
        await client.NextAsync();

        await client.SendAsync(frame);
        var error = await client.NextAsync();

        Assert.Equal("error", error.Type);
        Assert.Equal(code, error.Data.GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(error.Data.GetProperty("message").GetString()));
        await client.SendAsync(new { type = "ping" });
        Assert.Equal("pong", (await client.NextAsync()).Type);
    }

    [Fact]
    public async Task ClientErrors_MoreThanMaxClientErrors_ClosesWith4029()
    {
        await using var client = await WsClient.ConnectAsync(cluster.A, "/api/ws/notifications", TestTokens.For(NewUser("errs")));
        await client.NextAsync();

        for (var i = 0; i < 3; i++)
        {
            await client.SendAsync("{oops");
            Assert.Equal("error", (await client.NextAsync()).Type);
        }
        await client.SendAsync("{oops");

        Assert.Equal(4029, await client.ClosedAsync());
    }

    [Fact]
    public async Task ClientFrames_FloodAboveRate_ClosesWith4029()
    {
        await using var client = await WsClient.ConnectAsync(cluster.A, "/api/ws/notifications", TestTokens.For(NewUser("flood")));
        await client.NextAsync();

        for (var i = 0; i < 100; i++)
        {
            try
            {
                await client.SendAsync(new { type = "ping" });
            }
            catch (System.Net.WebSockets.WebSocketException)
            {
                break;
            }
        }

        Assert.Equal(4029, await client.ClosedAsync());
    }

    [Fact]
    public async Task ClientFrame_LargerThanMaxMessageBytes_ClosesWith1009()
    {
        await using var client = await WsClient.ConnectAsync(cluster.B, "/api/ws/notifications", TestTokens.For(NewUser("big")));
        await client.NextAsync();

        await client.SendAsync("{\"type\":\"ping\",\"pad\":\"" + new string('x', 64 * 1024) + "\"}");

        Assert.Equal(1009, await client.ClosedAsync());
    }

    [Fact]
    public async Task ClientFrame_ExactlyMaxMessageBytes_IsAccepted()
    {
        await using var client = await WsClient.ConnectAsync(cluster.B, "/api/ws/notifications", TestTokens.For(NewUser("edge")));
        await client.NextAsync();
        var prefix = "{\"type\":\"ping\",\"pad\":\"";
        var frame = prefix + new string('x', 64 * 1024 - prefix.Length - 2) + "\"}";
        Assert.Equal(64 * 1024, frame.Length);

        await client.SendAsync(frame);

        Assert.Equal("pong", (await client.NextAsync()).Type);
    }

    [Fact]
    public async Task Token_Invalid_ClosesWith4001()
    {
        var user = NewUser("tok");
        foreach (var token in new[] { null, "garbage", TestTokens.Expired(user), TestTokens.AlgNone(user), TestTokens.WrongKey(user) })
        {
            await using var client = await WsClient.ConnectAsync(cluster.A, "/api/ws/notifications", token);
            Assert.Equal(4001, await client.ClosedAsync());
        }
    }

    [Fact]
    public async Task Token_ExpiresWhileConnected_ClosesWith4001()
    {
        await using var client = await WsClient.ConnectAsync(cluster.A, "/api/ws/notifications", TestTokens.For(NewUser("exp"), lifetime: TimeSpan.FromSeconds(2)));
        Assert.Equal("connected", (await client.NextAsync()).Type);

        Assert.Equal(4001, await client.ClosedAsync(TimeSpan.FromSeconds(8)));
    }

    [Fact]
    public async Task Connections_MoreThanMaxPerUser_ClosesWith4008()
    {
        var user = NewUser("many");
        var clients = new List<WsClient>();
        try
        {
            for (var i = 0; i < 5; i++)
            {
                var client = await WsClient.ConnectAsync(cluster.B, "/api/ws/notifications", TestTokens.For(user));
                clients.Add(client);
                Assert.Equal("connected", (await client.NextAsync()).Type);
            }
            await using var sixth = await WsClient.ConnectAsync(cluster.B, "/api/ws/notifications", TestTokens.For(user));
            Assert.Equal(4008, await sixth.ClosedAsync());
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task AdminEndpoint_AsUser_ClosesWith4003()
    {
        await using var client = await WsClient.ConnectAsync(cluster.A, "/api/ws/admin", TestTokens.For(NewUser("nadm")));
        Assert.Equal(4003, await client.ClosedAsync());
    }

    [Fact]
    public async Task AdminEndpoint_AsAdmin_ReceivesAdminChannelAndSystemMessages()
    {
        await using var client = await WsClient.ConnectAsync(cluster.B, "/api/ws/admin", TestTokens.For(NewUser("adm"), admin: true));
        Assert.Equal("connected", (await client.NextAsync()).Type);

        var publication = await cluster.Backplane.PublishToChannelAsync("admin", new { text = "disk full" });
        var message = await client.NextAsync();
        Assert.Equal("message", message.Type);
        Assert.Equal("admin", message.Data.GetProperty("channel").GetString());
        Assert.Equal(publication.Id, message.Data.GetProperty("id").GetString());
        Assert.Equal("disk full", message.Data.GetProperty("payload").GetProperty("text").GetString());

        await cluster.Backplane.Bus.PublishAsync(BusTopic.Channel("admin"),
            Frames.Serialize("system_message", new { message = "maintenance", level = "warning", timestamp = DateTimeOffset.UtcNow }), CancellationToken.None);
        var system = await client.NextAsync();
        Assert.Equal("system_message", system.Type);
        Assert.Equal("maintenance", system.Data.GetProperty("message").GetString());
    }

    [Fact]
    public async Task AdminEndpoint_SystemMessagePayloadOnAdminChannel_AlsoArrivesAsSystemMessageFrame()
    {
        await using var admin = await WsClient.ConnectAsync(cluster.A, "/api/ws/admin", TestTokens.For(NewUser("sysm"), admin: true));
        Assert.Equal("connected", (await admin.NextAsync()).Type);

        // As the Worker reports a task failure.
        var at = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        await cluster.Backplane.PublishToChannelAsync("admin", new { type = "system_message", level = "error", message = "Task t1 failed", timestamp = at, task_id = "t1" });
        var message = await admin.NextAsync();
        Assert.Equal("message", message.Type);
        Assert.Equal("t1", message.Data.GetProperty("payload").GetProperty("task_id").GetString());
        var system = await admin.NextAsync();
        Assert.Equal("system_message", system.Type);
        Assert.Equal("Task t1 failed", system.Data.GetProperty("message").GetString());
        Assert.Equal("error", system.Data.GetProperty("level").GetString());
        Assert.Equal(at, system.Data.GetProperty("timestamp").GetDateTimeOffset());

        // As an admin's broadcast to the admin channel (content, level; the publication's time).
        var broadcast = await cluster.Backplane.PublishToChannelAsync("admin", new { type = "system_message", title = "", content = "maintenance at 22:00", level = "warning" });
        Assert.Equal("message", (await admin.NextAsync()).Type);
        system = await admin.NextAsync();
        Assert.Equal("system_message", system.Type);
        Assert.Equal("maintenance at 22:00", system.Data.GetProperty("message").GetString());
        Assert.Equal("warning", system.Data.GetProperty("level").GetString());
        Assert.Equal(broadcast.CreatedAt.ToUnixTimeMilliseconds(), system.Data.GetProperty("timestamp").GetDateTimeOffset().ToUnixTimeMilliseconds());

        // Any other admin message stays a message only.
        await cluster.Backplane.PublishToChannelAsync("admin", new { type = "deploy", content = "v2" });
        Assert.Equal("message", (await admin.NextAsync()).Type);
        await admin.SendAsync(new { type = "ping" });
        Assert.Equal("pong", (await admin.NextAsync()).Type);
    }

    [Fact]
    public async Task Subscribe_PublicChannel_ReceivesPublicationsFromBothSides()
    {
        var channel = "public:" + Guid.NewGuid().ToString("N")[..8];
        await using var client = await WsClient.ConnectAsync(cluster.A, "/api/ws/notifications", TestTokens.For(NewUser("sub")));
        await client.NextAsync();

        await client.SendAsync(new { type = "subscribe", channel });
        var subscribed = await client.NextAsync();
        Assert.Equal("subscribed", subscribed.Type);
        Assert.Equal(channel, subscribed.Json.GetProperty("channel").GetString());
        Assert.Equal(channel, subscribed.Data.GetProperty("channel").GetString());

        var publication = await cluster.Backplane.PublishToChannelAsync(channel, new { n = 1 });
        var message = await client.NextAsync();
        Assert.Equal("message", message.Type);
        Assert.Equal(publication.Id, message.Data.GetProperty("id").GetString());
        Assert.Equal(1, message.Data.GetProperty("payload").GetProperty("n").GetInt32());

        await client.SendAsync(new { type = "unsubscribe", channel });
        Assert.Equal("unsubscribed", (await client.NextAsync()).Type);
        await cluster.Backplane.PublishToChannelAsync(channel, new { n = 2 });
        await client.SendAsync(new { type = "ping" });
        Assert.Equal("pong", (await client.NextAsync()).Type);
    }

    [Fact]
    public async Task Subscribe_OwnUserChannel_IsAllowed()
    {
        var user = NewUser("uch");
        await using var client = await WsClient.ConnectAsync(cluster.A, "/api/ws/notifications", TestTokens.For(user));
        await client.NextAsync();

        await client.SendAsync(new { type = "subscribe", channel = "user:" + user });

        Assert.Equal("subscribed", (await client.NextAsync()).Type);
    }

    [Fact]
    public async Task Subscribe_Since_ReplaysHistoryThenLiveWithoutDuplicates()
    {
        var channel = "public:" + Guid.NewGuid().ToString("N")[..8];
        var first = await cluster.Backplane.PublishToChannelAsync(channel, new { n = 0 });
        var missed = new List<string>();
        for (var i = 1; i <= 3; i++)
        {
            missed.Add((await cluster.Backplane.PublishToChannelAsync(channel, new { n = i })).Id);
        }
        await using var client = await WsClient.ConnectAsync(cluster.B, "/api/ws/notifications", TestTokens.For(NewUser("since")));
        await client.NextAsync();

        await client.SendAsync(new { type = "subscribe", channel, since = first.Id });
        var live = (await cluster.Backplane.PublishToChannelAsync(channel, new { n = 4 })).Id;

        Assert.Equal("subscribed", (await client.NextAsync()).Type);
        var ids = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            var message = await client.NextAsync();
            Assert.Equal("message", message.Type);
            ids.Add(message.Data.GetProperty("id").GetString()!);
        }
        Assert.Equal([.. missed, live], ids);
        await client.SendAsync(new { type = "ping" });
        Assert.Equal("pong", (await client.NextAsync()).Type);
    }

    [Fact]
    public async Task Subscribe_SinceTrimmedHistory_SendsResyncForTheChannel()
    {
        var channel = "public:" + Guid.NewGuid().ToString("N")[..8];
        var first = await cluster.Backplane.PublishToChannelAsync(channel, new { n = 0 });
        // History keeps 50 entries: the entry after `first` is trimmed away.
        for (var i = 0; i < 60; i++)
        {
            await cluster.Backplane.PublishToChannelAsync(channel, new { n = i });
        }
        await using var client = await WsClient.ConnectAsync(cluster.A, "/api/ws/notifications", TestTokens.For(NewUser("trim")));
        await client.NextAsync();

        await client.SendAsync(new { type = "subscribe", channel, since = first.Id });

        Assert.Equal("subscribed", (await client.NextAsync()).Type);
        var resync = await client.NextAsync();
        Assert.Equal("resync", resync.Type);
        Assert.Equal(channel, resync.Data.GetProperty("channel").GetString());
    }

    [Fact]
    public async Task Broadcast_ClientsOnBothInstances_AllReceive()
    {
        await using var onA = await WsClient.ConnectAsync(cluster.A, "/api/ws/notifications", TestTokens.For(NewUser("bca")));
        await using var onB = await WsClient.ConnectAsync(cluster.B, "/api/ws/notifications", TestTokens.For(NewUser("bcb")));
        await onA.NextAsync();
        await onB.NextAsync();
        var marker = Guid.NewGuid().ToString("N");

        await cluster.Backplane.Bus.PublishToChannelAsync(BusTopic.Broadcast, "broadcast",
            JsonSerializer.SerializeToElement(new { marker }, NotifyJson.Options), CancellationToken.None);

        foreach (var client in new[] { onA, onB })
        {
            var message = await NextWithMarkerAsync(client, marker);
            Assert.Equal("message", message.Type);
        }
    }

    [Fact]
    public async Task MarkRead_OwnNotification_AnswersReadAndStoresIt()
    {
        var user = NewUser("mark");
        var notification = await cluster.Backplane.NotifyAsync(user, "read me", publish: false);
        await using var client = await WsClient.ConnectAsync(cluster.A, "/api/ws/notifications", TestTokens.For(user));
        await client.NextAsync();

        await client.SendAsync(new { type = "mark_read", id = notification.Id });
        var read = await client.NextAsync();

        Assert.Equal("read", read.Type);
        Assert.Equal(notification.Id, read.Data.GetProperty("id").GetString());
        Assert.Equal(0, await cluster.Backplane.Store.CountUnreadAsync(user, CancellationToken.None));
    }

    [Fact]
    public async Task MarkRead_OverWebSocket_TheUsersOtherConnectionsOnEveryInstanceGetRead()
    {
        var user = NewUser("tabs");
        var notification = await cluster.Backplane.NotifyAsync(user, "read elsewhere", publish: false);
        await using var tab = await WsClient.ConnectAsync(cluster.A, "/api/ws/notifications", TestTokens.For(user));
        await using var sameInstance = await WsClient.ConnectAsync(cluster.A, "/api/ws/notifications", TestTokens.For(user));
        await using var otherInstance = await WsClient.ConnectAsync(cluster.B, "/api/ws/notifications", TestTokens.For(user));
        foreach (var client in new[] { tab, sameInstance, otherInstance })
        {
            Assert.Equal("connected", (await client.NextAsync()).Type);
        }

        await tab.SendAsync(new { type = "mark_read", id = notification.Id });

        foreach (var client in new[] { tab, sameInstance, otherInstance })
        {
            var read = await client.NextAsync();
            Assert.Equal("read", read.Type);
            Assert.Equal(notification.Id, read.Data.GetProperty("id").GetString());
        }
        // The sender got its answer once: its own published echo is dropped.
        await tab.SendAsync(new { type = "ping" });
        Assert.Equal("pong", (await tab.NextAsync()).Type);
    }

    [Fact]
    public async Task MarkRead_OtherUsersNotification_NotFoundErrorAndUnchanged()
    {
        var owner = NewUser("owner");
        var notification = await cluster.Backplane.NotifyAsync(owner, "not yours", publish: false);
        await using var client = await WsClient.ConnectAsync(cluster.B, "/api/ws/notifications", TestTokens.For(NewUser("thief")));
        await client.NextAsync();

        await client.SendAsync(new { type = "mark_read", id = notification.Id });
        var error = await client.NextAsync();

        Assert.Equal("error", error.Type);
        Assert.Equal("not_found", error.Data.GetProperty("code").GetString());
        Assert.Equal(1, await cluster.Backplane.Store.CountUnreadAsync(owner, CancellationToken.None));
    }

    [Theory]
    [InlineData("mark_seen", "seen")]
    [InlineData("archive", "archived")]
    public async Task InboxChange_OverWebSocket_StoredAndTheUsersOtherTabsGetTheFrame(string clientFrame, string serverFrame)
    {
        var user = NewUser("change");
        var notification = await cluster.Backplane.NotifyAsync(user, "change me", publish: false);
        await using var tab = await WsClient.ConnectAsync(cluster.A, "/api/ws/notifications", TestTokens.For(user));
        await using var otherInstance = await WsClient.ConnectAsync(cluster.B, "/api/ws/notifications", TestTokens.For(user));
        foreach (var client in new[] { tab, otherInstance })
        {
            Assert.Equal("connected", (await client.NextAsync()).Type);
        }

        await tab.SendAsync(new { type = clientFrame, id = notification.Id });

        foreach (var client in new[] { tab, otherInstance })
        {
            var frame = await client.NextAsync();
            Assert.Equal(serverFrame, frame.Type);
            Assert.Equal(notification.Id, frame.Data.GetProperty("id").GetString());
        }
        var stored = await cluster.Backplane.Store.GetAsync(user, notification.Id, CancellationToken.None);
        Assert.NotNull(clientFrame == "archive" ? stored!.ArchivedAt : stored!.SeenAt);
        await tab.SendAsync(new { type = "unarchive", id = notification.Id });
        Assert.Equal("unarchived", (await tab.NextAsync()).Type);
        Assert.Null((await cluster.Backplane.Store.GetAsync(user, notification.Id, CancellationToken.None))!.ArchivedAt);
    }

    [Theory]
    [InlineData("mark_seen")]
    [InlineData("archive")]
    public async Task InboxChange_OtherUsersNotificationOrNoId_ErrorFrameAndUnchanged(string clientFrame)
    {
        var owner = NewUser("owner");
        var notification = await cluster.Backplane.NotifyAsync(owner, "not yours", publish: false);
        await using var client = await WsClient.ConnectAsync(cluster.B, "/api/ws/notifications", TestTokens.For(NewUser("thief")));
        await client.NextAsync();

        await client.SendAsync(new { type = clientFrame, id = notification.Id });
        var error = await client.NextAsync();
        await client.SendAsync(new { type = clientFrame });
        var missing = await client.NextAsync();

        Assert.Equal("not_found", error.Data.GetProperty("code").GetString());
        Assert.Equal("bad_request", missing.Data.GetProperty("code").GetString());
        var stored = await cluster.Backplane.Store.GetAsync(owner, notification.Id, CancellationToken.None);
        Assert.Null(stored!.SeenAt);
        Assert.Null(stored.ArchivedAt);
    }

    private static async Task<Received> NextWithMarkerAsync(WsClient client, string marker)
    {
        while (true)
        {
            var frame = await client.NextAsync();
            if (frame.IsClose || frame.Text?.Contains(marker, StringComparison.Ordinal) == true)
            {
                return frame;
            }
        }
    }
}
