using Microsoft.Extensions.Time.Testing;
using Notify.Core.Json;
using Notify.Core.Messaging;
using Notify.Realtime.Connections;

namespace Notify.Tests.Realtime;

/// <summary>The per-connection queue logic of Notify.Realtime (pure logic, no transport).</summary>
public sealed class ClientConnectionTests
{
    private static readonly FakeTimeProvider Time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    private static ClientConnection New(StreamKind kind = StreamKind.Notifications, int capacity = 16) =>
        new("c1", "alice", isAdmin: false, kind, capacity, expiresAt: null, Time.GetUtcNow());

    [Fact]
    public void ReleaseGate_SameChannelReplayedAThousandTimes_KeepsOneEchoFilter()
    {
        var connection = New();
        var topic = BusTopic.Channel("public:x");
        for (var i = 0; i < 1_000; i++)
        {
            connection.BeginGate(topic);
            connection.ReleaseGate(_ => false, EchoKey.Channel("public:x"), Time.GetUtcNow().AddSeconds(30));
        }

        Assert.Equal(1, connection.EchoFilterCount);
    }

    [Fact]
    public void RemoveEchoFilter_ChannelsLeftAfterReplay_FiltersGoWithThem()
    {
        var connection = New();
        for (var i = 0; i < 1_000; i++)
        {
            var channel = $"public:c{i}";
            connection.BeginGate(BusTopic.Channel(channel));
            connection.ReleaseGate(_ => false, EchoKey.Channel(channel), Time.GetUtcNow().AddSeconds(30));
            connection.RemoveEchoFilter(EchoKey.Channel(channel));
        }
        connection.BeginGate(null);
        connection.ReleaseGate(_ => false, EchoKey.Inbox, Time.GetUtcNow().AddSeconds(30));
        connection.SetEchoFilter(EchoKey.Change("read"), BusTopic.User("alice"), _ => false, Time.GetUtcNow().AddSeconds(30));
        connection.SetEchoFilter(EchoKey.Change("read"), BusTopic.User("alice"), _ => false, Time.GetUtcNow().AddSeconds(30));

        Assert.Equal(2, connection.EchoFilterCount);
    }

    [Fact]
    public void Deliver_AfterEchoWindow_ExpiredFiltersAreDropped()
    {
        var connection = New();
        var topic = BusTopic.Channel("public:x");
        connection.BeginGate(topic);
        connection.ReleaseGate(_ => true, EchoKey.Channel("public:x"), Time.GetUtcNow().AddSeconds(30));
        var frame = new SharedFrame(Frames.Serialize("message", new { channel = "public:x", id = "1-0" }));

        connection.Deliver(topic, frame, Time.GetUtcNow().AddSeconds(10));
        Assert.False(connection.Outbound.TryRead(out _));
        connection.Deliver(topic, frame, Time.GetUtcNow().AddSeconds(31));

        Assert.True(connection.Outbound.TryRead(out _));
        Assert.Equal(0, connection.EchoFilterCount);
    }

    [Fact]
    public void Deliver_TaskStreamTerminalFromTheBus_EndsTheStream_ButAnErrorAnswerDoesNot()
    {
        var connection = New(StreamKind.Task);
        connection.Enqueue(Frames.Serialize("error", new { code = "bad_request", message = "malformed JSON" }));
        connection.Deliver(BusTopic.Task("t1"), new SharedFrame(Frames.Serialize("progress", new { task_id = "t1" })), Time.GetUtcNow());
        connection.Deliver(BusTopic.Task("t1"), new SharedFrame(Frames.Serialize("error", new { task_id = "t1", error = "boom" })), Time.GetUtcNow());

        Assert.True(connection.Outbound.TryRead(out var answer));
        Assert.False(answer.EndsStream);
        Assert.True(connection.Outbound.TryRead(out var progress));
        Assert.False(progress.EndsStream);
        Assert.True(connection.Outbound.TryRead(out var failed));
        Assert.True(failed.EndsStream);
    }

    [Fact]
    public void Deliver_NotificationStream_ErrorFrameFromTheBusNeverEndsIt()
    {
        var connection = New(StreamKind.Notifications);
        connection.Deliver(BusTopic.User("alice"), new SharedFrame(Frames.Serialize("error", new { code = "x" })), Time.GetUtcNow());

        Assert.True(connection.Outbound.TryRead(out var frame));
        Assert.False(frame.EndsStream);
    }
}
