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
        Assert.False(connection.TryTakeQueued(out _));
        connection.Deliver(topic, frame, Time.GetUtcNow().AddSeconds(31));

        Assert.True(connection.TryTakeQueued(out _));
        Assert.Equal(0, connection.EchoFilterCount);
    }

    [Fact]
    public void Deliver_TaskStreamTerminalFromTheBus_EndsTheStream_ButAnErrorAnswerDoesNot()
    {
        var connection = New(StreamKind.Task);
        connection.Enqueue(Frames.Serialize("error", new { code = "bad_request", message = "malformed JSON" }));
        connection.Deliver(BusTopic.Task("t1"), new SharedFrame(Frames.Serialize("progress", new { task_id = "t1" })), Time.GetUtcNow());
        connection.Deliver(BusTopic.Task("t1"), new SharedFrame(Frames.Serialize("error", new { task_id = "t1", error = "boom" })), Time.GetUtcNow());

        Assert.True(connection.TryTakeQueued(out var answer));
        Assert.False(answer.EndsStream);
        Assert.True(connection.TryTakeQueued(out var progress));
        Assert.False(progress.EndsStream);
        Assert.True(connection.TryTakeQueued(out var failed));
        Assert.True(failed.EndsStream);
    }

    [Fact]
    public void Deliver_NotificationStream_ErrorFrameFromTheBusNeverEndsIt()
    {
        var connection = New(StreamKind.Notifications);
        connection.Deliver(BusTopic.User("alice"), new SharedFrame(Frames.Serialize("error", new { code = "x" })), Time.GetUtcNow());

        Assert.True(connection.TryTakeQueued(out var frame));
        Assert.False(frame.EndsStream);
    }

    private static SharedFrame Numbered(int n) => new(Frames.Serialize("message", new { n }));

    /// <summary>The number of the next frame <paramref name="writer"/> wrote (waits for it, within <see cref="Wait"/>).</summary>
    private static async Task<int> NextNumberAsync(FrameRecorder writer) =>
        NumberOf(await writer.Frames.Reader.ReadAsync(Ct).AsTask().WaitAsync(Wait, Ct));

    private static int NumberOf(OutboundFrame frame) =>
        System.Text.Json.JsonDocument.Parse(frame.Bytes).RootElement.GetProperty("data").GetProperty("n").GetInt32();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task StartWriting_IdleConnection_HasNoWriteRunUntilAFrameIsQueued_ThenWritesInOrderAndEnds()
    {
        var connection = New(capacity: 64);
        var writer = new FrameRecorder();
        connection.Enqueue(Numbered(0));
        connection.StartWriting(writer);
        Assert.Equal(0, await NextNumberAsync(writer));
        await connection.WhenWritten().WaitAsync(Wait, Ct);
        Assert.True(connection.WhenWritten().IsCompleted, "a write run outlived an empty queue");

        for (var round = 1; round <= 50; round++)
        {
            for (var i = 0; i < 10; i++)
            {
                connection.Enqueue(Numbered(round * 10 + i));
            }
            for (var i = 0; i < 10; i++)
            {
                Assert.Equal(round * 10 + i, await NextNumberAsync(writer));
            }
            await connection.WhenWritten().WaitAsync(Wait, Ct);
        }

        Assert.Equal(1, writer.MostRunsAtOnce);
        Assert.Null(connection.CloseReason);
    }

    [Fact]
    public async Task Enqueue_WriterStuck_OneFrameBeyondTheCapacityClosesAsSlowConsumer_AndQueuedFramesAreDropped()
    {
        var connection = New(capacity: 4);
        var writer = new FrameRecorder();
        writer.Hold();
        connection.StartWriting(writer);
        connection.Enqueue(Numbered(0));
        // The run takes frame 0 and waits in its write; the queue then holds the capacity.
        await WaitUntilAsync(() => connection.QueuedCount == 0);
        for (var i = 1; i <= 4; i++)
        {
            connection.Enqueue(Numbered(i));
        }
        Assert.Null(connection.CloseReason);

        connection.Enqueue(Numbered(5));

        Assert.Equal(CloseReason.SlowConsumer, connection.CloseReason);
        writer.Release();
        await connection.WhenWritten().WaitAsync(Wait, Ct);
        Assert.Equal(0, await NextNumberAsync(writer));
        Assert.False(writer.Frames.Reader.TryRead(out _));
    }

    [Fact]
    public async Task EnqueueReplayAsync_QueueFull_WaitsForRoomThenKeepsTheOrder()
    {
        var connection = New(capacity: 2);
        var writer = new FrameRecorder();
        writer.Hold();
        connection.StartWriting(writer);

        var replay = Task.Run(async () =>
        {
            for (var i = 0; i < 20; i++)
            {
                await connection.EnqueueReplayAsync(Numbered(i).Bytes, Ct);
            }
        }, Ct);
        await WaitUntilAsync(() => connection.QueuedCount == 2);
        Assert.False(replay.IsCompleted);
        writer.Release();
        await replay.WaitAsync(Wait, Ct);

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(i, await NextNumberAsync(writer));
        }
        Assert.Null(connection.CloseReason);
    }

    [Fact]
    public async Task EnqueueReplayAsync_ConnectionClosesWhileItWaits_EndsWithCancellation()
    {
        var connection = New(capacity: 1);
        connection.Enqueue(Numbered(0));
        var replay = connection.EnqueueReplayAsync(Numbered(1).Bytes, Ct).AsTask();
        Assert.False(replay.IsCompleted);

        connection.Close(CloseReason.GoingAway);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => replay.WaitAsync(Wait, Ct));
        Assert.True(connection.Closing.IsCancellationRequested);
    }

    [Fact]
    public async Task WriteRun_EndsStreamFrame_ClosesNormalAfterWritingIt()
    {
        var connection = New(StreamKind.Task);
        var writer = new FrameRecorder();
        connection.StartWriting(writer);
        var closing = connection.WhenClosing();

        await connection.EnqueueReplayAsync(Frames.Serialize("completed", new { task_id = "t1" }), Ct, endsStream: true);
        connection.Enqueue(Numbered(1));

        await closing.WaitAsync(Wait, Ct);
        await connection.WhenWritten().WaitAsync(Wait, Ct);
        Assert.Equal(CloseReason.Normal, connection.CloseReason);
        Assert.True((await writer.Frames.Reader.ReadAsync(Ct)).EndsStream);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task WriteRun_WriteFails_ClosesAsClientGoneOrInternalError(bool clientGone)
    {
        var connection = New();
        var writer = new FrameRecorder { FailureIsClientGone = clientGone, Failure = new IOException("broken pipe") };
        connection.StartWriting(writer);

        connection.Enqueue(Numbered(0));

        await connection.WhenClosing().WaitAsync(Wait, Ct);
        await connection.WhenWritten().WaitAsync(Wait, Ct);
        Assert.Equal(clientGone ? CloseReason.ClientClosed : CloseReason.InternalError, connection.CloseReason);
        Assert.Equal(clientGone, connection.Fault is null);
        connection.Enqueue(Numbered(1));
        Assert.Equal(0, connection.QueuedCount);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = TimeProvider.System.GetUtcNow() + Wait;
        while (!condition())
        {
            Assert.True(TimeProvider.System.GetUtcNow() < deadline, "condition not met in time");
            await Task.Delay(10, Ct);
        }
    }
}
