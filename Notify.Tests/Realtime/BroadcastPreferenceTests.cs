using Notify.Core.Preferences;
using Notify.Realtime.Preferences;

namespace Notify.Tests.Realtime;

/// <summary>
/// Broadcasts and channel messages respect <c>off</c> (docs/realtime.md "Preferences and broadcasts"): two
/// real Realtime instances on one Redis and SQLite; preferences stored as the Api stores them.
/// </summary>
public sealed class BroadcastPreferenceTests(RealtimeClusterFixture cluster) : IClassFixture<RealtimeClusterFixture>
{
    private static string NewUser(string name) => RealtimeClusterFixture.NewUser(name);

    private static NotificationPreferences Off(params string[] keys) => new()
    {
        Types = keys.ToDictionary(k => k, IReadOnlyDictionary<string, DeliveryMode> (_) => new Dictionary<string, DeliveryMode> { [PreferenceChannels.InApp] = DeliveryMode.Off }, StringComparer.Ordinal),
    };

    [Fact]
    public async Task Broadcast_TypeOffForOneUser_OnlyTheOtherReceivesIt()
    {
        var quiet = NewUser("bq");
        var type = "promo-" + Guid.NewGuid().ToString("N")[..8];
        await cluster.Backplane.StorePreferencesAsync(quiet, Off(type));
        await using var off = await WsClient.ConnectAsync(cluster.A, "/api/ws/notifications", TestTokens.For(quiet));
        await using var on = await WsClient.ConnectAsync(cluster.B, "/api/ws/notifications", TestTokens.For(NewUser("bl")));
        Assert.Equal("connected", (await off.NextAsync()).Type);
        Assert.Equal("connected", (await on.NextAsync()).Type);
        var marker = Guid.NewGuid().ToString("N");

        await cluster.Backplane.PublishBroadcastAsync(new { type, title = "", content = "sale " + marker, level = "info" });
        await cluster.Backplane.PublishBroadcastAsync(new { type = "news", title = "", content = "after " + marker, level = "info" });

        // Frames keep their order, so the first marked frame the user with off gets must be the second one.
        Assert.Equal("sale " + marker, (await NextMessageAsync(on, marker)).GetProperty("content").GetString());
        Assert.Equal("after " + marker, (await NextMessageAsync(on, marker)).GetProperty("content").GetString());
        Assert.Equal("after " + marker, (await NextMessageAsync(off, marker)).GetProperty("content").GetString());
    }

    [Fact]
    public async Task ChannelMessage_ChannelOff_NeitherLiveNorReplayed()
    {
        var channel = "public:news." + Guid.NewGuid().ToString("N")[..8];
        var other = "public:sports." + Guid.NewGuid().ToString("N")[..8];
        var quiet = NewUser("cq");
        await cluster.Backplane.StorePreferencesAsync(quiet, Off(MessagePreferenceFilter.ChannelPrefix + channel));
        var first = await cluster.Backplane.PublishToChannelAsync(channel, new { type = "story", n = 0 });
        await cluster.Backplane.PublishToChannelAsync(channel, new { type = "story", n = 1 });
        var otherFirst = await cluster.Backplane.PublishToChannelAsync(other, new { type = "story", n = 0 });
        await cluster.Backplane.PublishToChannelAsync(other, new { type = "story", n = 1 });
        await using var off = await WsClient.ConnectAsync(cluster.B, "/api/ws/notifications", TestTokens.For(quiet));
        await using var on = await WsClient.ConnectAsync(cluster.A, "/api/ws/notifications", TestTokens.For(NewUser("cl")));
        await off.NextAsync();
        await on.NextAsync();

        foreach (var client in new[] { off, on })
        {
            await client.SendAsync(new { type = "subscribe", channel, since = first.Id });
            Assert.Equal("subscribed", (await client.NextAsync()).Type);
        }
        // The user who turned the channel off: no replay of it; the other channel still replays and goes live.
        await off.SendAsync(new { type = "subscribe", channel = other, since = otherFirst.Id });
        Assert.Equal("subscribed", (await off.NextAsync()).Type);
        var replayed = await off.NextAsync();
        Assert.Equal(other, replayed.Data.GetProperty("channel").GetString());
        await cluster.Backplane.PublishToChannelAsync(channel, new { type = "story", n = 2 });
        await cluster.Backplane.PublishToChannelAsync(other, new { type = "story", n = 2 });
        var live = await off.NextAsync();
        Assert.Equal(other, live.Data.GetProperty("channel").GetString());
        Assert.Equal(2, live.Data.GetProperty("payload").GetProperty("n").GetInt32());

        // Everybody else gets the channel's replay and live message.
        for (var n = 1; n <= 2; n++)
        {
            var message = await on.NextAsync();
            Assert.Equal(channel, message.Data.GetProperty("channel").GetString());
            Assert.Equal(n, message.Data.GetProperty("payload").GetProperty("n").GetInt32());
        }
    }

    [Fact]
    public async Task Broadcast_PreferencesChangedWhileConnected_OffTakesEffectWithoutReconnecting()
    {
        var user = NewUser("bc");
        var type = "digest-" + Guid.NewGuid().ToString("N")[..8];
        await using var client = await WsClient.ConnectAsync(cluster.A, "/api/ws/notifications", TestTokens.For(user));
        await client.NextAsync();
        var marker = Guid.NewGuid().ToString("N");
        await cluster.Backplane.PublishBroadcastAsync(new { type, content = "before " + marker });
        Assert.Equal("before " + marker, (await NextMessageAsync(client, marker)).GetProperty("content").GetString());

        await cluster.Backplane.StorePreferencesAsync(user, Off(type), announce: true);
        Assert.Equal("preferences", (await client.NextAsync()).Type);

        // The reload runs beside delivery: send pairs (off type, then a sentinel) until a sentinel arrives
        // alone; from then on the type stays dropped.
        var deadline = DateTimeOffset.UtcNow.AddSeconds(30);
        var filtered = false;
        for (var i = 0; !filtered; i++)
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, "the preferences change never took effect");
            await cluster.Backplane.PublishBroadcastAsync(new { type, content = $"off {i} {marker}" });
            await cluster.Backplane.PublishBroadcastAsync(new { type = "news", content = $"sentinel {i} {marker}" });
            var first = (await NextMessageAsync(client, marker)).GetProperty("content").GetString();
            filtered = first == $"sentinel {i} {marker}";
            if (!filtered)
            {
                Assert.Equal($"sentinel {i} {marker}", (await NextMessageAsync(client, marker)).GetProperty("content").GetString());
            }
        }
        await cluster.Backplane.PublishBroadcastAsync(new { type, content = "late " + marker });
        await cluster.Backplane.PublishBroadcastAsync(new { type = "news", content = "end " + marker });
        Assert.Equal("end " + marker, (await NextMessageAsync(client, marker)).GetProperty("content").GetString());
    }

    [Theory]
    [InlineData("promo", "news", "promo", true)]
    [InlineData("*", "news", "promo", true)]
    [InlineData("channel:news", "news", "promo", true)]
    [InlineData("channel:news", "sports", "promo", false)]
    [InlineData("billing", "news", "promo", false)]
    [InlineData("promo", "news", null, false)]
    public void IsOff_UserEntry_MatchesTypeOrChannel(string offKey, string channel, string? type, bool expected) =>
        Assert.Equal(expected, MessagePreferenceFilter.IsOff(new OffPreferences(Off(offKey)), OffPreferences.Empty, channel, type));

    [Fact]
    public void IsOff_DefaultOffAndUserLive_UserWins()
    {
        var user = new NotificationPreferences
        {
            Types = new Dictionary<string, IReadOnlyDictionary<string, DeliveryMode>>
            {
                ["promo"] = new Dictionary<string, DeliveryMode> { [PreferenceChannels.InApp] = DeliveryMode.Live },
            },
        };
        Assert.False(MessagePreferenceFilter.IsOff(new OffPreferences(user), new OffPreferences(Off("promo")), "broadcast", "promo"));
        Assert.True(MessagePreferenceFilter.IsOff(OffPreferences.Empty, new OffPreferences(Off("promo")), "broadcast", "promo"));
    }

    [Fact]
    public void IsOff_ChannelLiveForUserAndOffInDefaults_UserWins()
    {
        var user = new NotificationPreferences
        {
            Types = new Dictionary<string, IReadOnlyDictionary<string, DeliveryMode>>
            {
                ["channel:news"] = new Dictionary<string, DeliveryMode> { [PreferenceChannels.InApp] = DeliveryMode.Live },
            },
        };
        var defaults = new OffPreferences(Off("channel:news"));

        Assert.False(MessagePreferenceFilter.IsOff(new OffPreferences(user), defaults, "news", "story"));
        Assert.True(MessagePreferenceFilter.IsOff(OffPreferences.Empty, defaults, "news", "story"));
        Assert.False(MessagePreferenceFilter.IsOff(OffPreferences.Empty, defaults, "channel:news", "story"));
    }

    [Fact]
    public void OffPreferences_QuietHoursAndInboxOnly_TurnNothingOff()
    {
        var quiet = new NotificationPreferences
        {
            Types = new Dictionary<string, IReadOnlyDictionary<string, DeliveryMode>>
            {
                ["*"] = new Dictionary<string, DeliveryMode> { [PreferenceChannels.InApp] = DeliveryMode.Inbox },
                ["promo"] = new Dictionary<string, DeliveryMode> { [PreferenceChannels.Push] = DeliveryMode.Off },
            },
            QuietHours = new QuietHours("00:00", "23:59", "UTC"),
        };
        var filter = new OffPreferences(quiet);

        Assert.False(filter.HasOff);
        Assert.Null(filter.Preferences.QuietHours);
        Assert.False(MessagePreferenceFilter.IsOff(filter, OffPreferences.Empty, "broadcast", "promo"));
        Assert.True(new OffPreferences(Off("promo")).HasOff);
    }

    private static async Task<System.Text.Json.JsonElement> NextMessageAsync(WsClient client, string marker)
    {
        while (true)
        {
            var frame = await client.NextAsync();
            Assert.False(frame.IsClose, "the connection closed");
            if (frame.Type == "message" && frame.Text?.Contains(marker, StringComparison.Ordinal) == true)
            {
                return frame.Data.GetProperty("payload");
            }
        }
    }
}
