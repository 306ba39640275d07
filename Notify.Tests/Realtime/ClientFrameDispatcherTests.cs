using System.Text;
using System.Text.Json;
using Notify.Realtime.Connections;
using Notify.Realtime.Options;
using Notify.Realtime.Sessions;
using Notify.Tests.Infrastructure;

namespace Notify.Tests.Realtime;

/// <summary>Client frames (PROTOCOL.md §3) through <see cref="ClientFrameDispatcher"/>, on fake time, without a socket.</summary>
public sealed class ClientFrameDispatcherTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string, string, string> Rejected => new()
    {
        { "{not json", "bad_request", "malformed JSON" },
        { "[1,2]", "bad_request", "missing field: type" },
        { "{\"type\":42}", "bad_request", "missing field: type" },
        { "{\"type\":\"launch_rockets\"}", "unknown_type", "unknown frame type launch_rockets" },
        { "{\"type\":\"subscribe\"}", "bad_request", "missing field: channel" },
        { "{\"type\":\"subscribe\",\"channel\":\"public:x\",\"since\":5}", "bad_request", "since must be a string: a channel offset such as 1700000000000-0" },
        { "{\"type\":\"subscribe\",\"channel\":\"Not Valid\"}", "bad_request", "channel must match ^[a-z0-9_.:-]{1,128}$" },
        { "{\"type\":\"subscribe\",\"channel\":\"admin\"}", "forbidden", "not allowed to join admin" },
        { "{\"type\":\"unsubscribe\"}", "bad_request", "missing field: channel" },
        { "{\"type\":\"mark_read\"}", "bad_request", "missing field: id" },
        { "{\"type\":\"mark_read\",\"id\":\"nope\"}", "not_found", "no notification nope" },
    };

    [Theory]
    [MemberData(nameof(Rejected))]
    public async Task DispatchAsync_BadFrame_AnsweredWithItsErrorAndTheConnectionStaysOpen(string frame, string code, string message)
    {
        await using var realtime = await InProcessRealtime.CreateAsync(redis);
        var connection = realtime.NewConnection();

        await realtime.Frames.DispatchAsync(connection, Text(frame), Ct);

        var error = Answer(connection);
        Assert.Equal("error", error.GetProperty("type").GetString());
        Assert.Equal(code, error.GetProperty("data").GetProperty("code").GetString());
        Assert.Equal(message, error.GetProperty("data").GetProperty("message").GetString());
        Assert.Null(connection.CloseReason);
    }

    [Fact]
    public async Task DispatchAsync_BinaryFrame_AnsweredWithBadRequest()
    {
        await using var realtime = await InProcessRealtime.CreateAsync(redis);
        var connection = realtime.NewConnection();

        await realtime.Frames.DispatchAsync(connection, new ClientMessage("{\"type\":\"ping\"}"u8.ToArray(), IsBinary: true), Ct);

        Assert.Equal("binary frames are not supported", Answer(connection).GetProperty("data").GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("Admin")]
    [InlineData("Task")]
    public async Task DispatchAsync_InboxChangeOnAStreamWithoutAnInbox_IsAnUnknownType(string kind)
    {
        await using var realtime = await InProcessRealtime.CreateAsync(redis);
        var connection = realtime.NewConnection(Enum.Parse<StreamKind>(kind), isAdmin: true);

        await realtime.Frames.DispatchAsync(connection, Text("{\"type\":\"mark_read\",\"id\":\"x\"}"), Ct);

        Assert.Equal("unknown_type", Answer(connection).GetProperty("data").GetProperty("code").GetString());
    }

    [Fact]
    public async Task DispatchAsync_Pings_AnsweredWithPongsAtTheCurrentTime()
    {
        await using var realtime = await InProcessRealtime.CreateAsync(redis);
        var connection = realtime.NewConnection();
        realtime.Time.Advance(TimeSpan.FromMinutes(3));

        await realtime.Frames.DispatchAsync(connection, Text("ping"), Ct);
        await realtime.Frames.DispatchAsync(connection, Text("{\"type\":\"ping\"}"), Ct);
        await realtime.Frames.DispatchAsync(connection, Text("{\"type\":\"heartbeat\"}"), Ct);
        await realtime.Frames.DispatchAsync(connection, Text("{\"type\":\"pong\"}"), Ct);

        Assert.True(connection.TryTakeQueued(out var bare));
        Assert.Equal("pong", Encoding.UTF8.GetString(bare.Bytes.Span));
        var pong = Answer(connection);
        Assert.Equal("pong", pong.GetProperty("type").GetString());
        Assert.Equal(realtime.Time.GetUtcNow(), pong.GetProperty("timestamp").GetDateTimeOffset());
        Assert.False(connection.TryTakeQueued(out _));
    }

    [Fact]
    public async Task DispatchAsync_SubscribeThenUnsubscribe_AnsweredAndTheTopicIsHeldOnlyMeanwhile()
    {
        await using var realtime = await InProcessRealtime.CreateAsync(redis);
        var connection = realtime.NewConnection();

        await realtime.Frames.DispatchAsync(connection, Text("{\"type\":\"subscribe\",\"channel\":\"public:news\"}"), Ct);
        var subscribed = Answer(connection);
        var held = realtime.Registry.Feeds().Count;
        await realtime.Frames.DispatchAsync(connection, Text("{\"type\":\"unsubscribe\",\"channel\":\"public:news\"}"), Ct);

        Assert.Equal("subscribed", subscribed.GetProperty("type").GetString());
        Assert.Equal("public:news", subscribed.GetProperty("channel").GetString());
        Assert.Equal(1, held);
        Assert.Equal("unsubscribed", Answer(connection).GetProperty("type").GetString());
        Assert.Empty(realtime.Registry.Feeds());
    }

    [Fact]
    public async Task DispatchAsync_ExactlyMaxClientErrorsRejected_AllAnswered_TheNextClosesRateLimited()
    {
        await using var realtime = await InProcessRealtime.CreateAsync(redis, new RealtimeOptions { MaxClientErrors = 3, ClientFrameRate = 100 });
        var connection = realtime.NewConnection();

        for (var i = 0; i < 3; i++)
        {
            await realtime.Frames.DispatchAsync(connection, Text("{nope"), Ct);
        }
        Assert.Null(connection.CloseReason);
        await realtime.Frames.DispatchAsync(connection, Text("{nope"), Ct);

        Assert.Equal(CloseReason.RateLimited, connection.CloseReason);
        Assert.Equal(4029, connection.CloseReason!.Code);
        Assert.Equal(3, Drain(connection).Count);
    }

    [Fact]
    public async Task DispatchAsync_ExactlyTheFrameRate_Passes_OneMoreClosesRateLimited()
    {
        await using var realtime = await InProcessRealtime.CreateAsync(redis, new RealtimeOptions { ClientFrameRate = 5 });
        var connection = realtime.NewConnection();

        for (var i = 0; i < 5; i++)
        {
            await realtime.Frames.DispatchAsync(connection, Text("ping"), Ct);
        }
        Assert.Null(connection.CloseReason);
        await realtime.Frames.DispatchAsync(connection, Text("ping"), Ct);

        Assert.Equal(CloseReason.RateLimited, connection.CloseReason);
        Assert.Equal(5, Drain(connection).Count);
    }

    [Fact]
    public async Task DispatchAsync_FrameRateRefills_OnFakeTime()
    {
        await using var realtime = await InProcessRealtime.CreateAsync(redis, new RealtimeOptions { ClientFrameRate = 5 });
        var connection = realtime.NewConnection();

        for (var i = 0; i < 5; i++)
        {
            await realtime.Frames.DispatchAsync(connection, Text("ping"), Ct);
        }
        realtime.Time.Advance(TimeSpan.FromSeconds(1));
        for (var i = 0; i < 5; i++)
        {
            await realtime.Frames.DispatchAsync(connection, Text("ping"), Ct);
        }

        Assert.Null(connection.CloseReason);
        Assert.Equal(10, Drain(connection).Count);
    }

    [Fact]
    public async Task DispatchAsync_TooBig_ClosesWithMessageTooBig()
    {
        await using var realtime = await InProcessRealtime.CreateAsync(redis);
        var connection = realtime.NewConnection();

        await realtime.Frames.DispatchAsync(connection, new ClientMessage(default, TooBig: true), Ct);

        Assert.Equal(1009, connection.CloseReason?.Code);
    }

    [Fact]
    public async Task DispatchAsync_ConnectionClosing_FrameIgnored()
    {
        await using var realtime = await InProcessRealtime.CreateAsync(redis);
        var connection = realtime.NewConnection();
        connection.Close(CloseReason.GoingAway);

        await realtime.Frames.DispatchAsync(connection, Text("{\"type\":\"subscribe\",\"channel\":\"public:x\"}"), Ct);

        Assert.Empty(realtime.Registry.Feeds());
        Assert.Equal(CloseReason.GoingAway, connection.CloseReason);
    }

    private static ClientMessage Text(string text) => new(Encoding.UTF8.GetBytes(text));

    private static JsonElement Answer(ClientConnection connection)
    {
        Assert.True(connection.TryTakeQueued(out var frame), "no answer queued");
        return JsonDocument.Parse(frame.Bytes).RootElement.Clone();
    }

    private static List<string> Drain(ClientConnection connection)
    {
        var frames = new List<string>();
        while (connection.TryTakeQueued(out var frame))
        {
            frames.Add(Encoding.UTF8.GetString(frame.Bytes.Span));
        }
        return frames;
    }
}
