using System.Text;
using Microsoft.Extensions.Time.Testing;
using Notify.Realtime.Connections;
using Notify.Realtime.Options;
using Notify.Tests.Infrastructure;

namespace Notify.Tests.Realtime;

/// <summary>Heartbeats, token expiry and idle limits of <see cref="ConnectionMonitor"/>, moved by fake time.</summary>
public sealed class ConnectionMonitorTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Sweep_HeartbeatsExactlyAtTheConfiguredInterval()
    {
        await using var realtime = await InProcessRealtime.CreateAsync(redis, new RealtimeOptions { HeartbeatInterval = TimeSpan.FromSeconds(30) });
        var monitor = realtime.Monitor();
        var (admission, connection) = Register(realtime);
        var start = realtime.Time.GetUtcNow();

        monitor.Sweep(start + TimeSpan.FromSeconds(29.9));
        var early = connection.TryTakeQueued(out _);
        monitor.Sweep(start + TimeSpan.FromSeconds(30));
        var first = Read(connection);
        monitor.Sweep(start + TimeSpan.FromSeconds(59.9));
        var between = connection.TryTakeQueued(out _);
        monitor.Sweep(start + TimeSpan.FromSeconds(60));
        var second = Read(connection);

        Assert.False(early);
        Assert.StartsWith("{\"type\":\"heartbeat\"", first);
        Assert.False(between);
        Assert.StartsWith("{\"type\":\"heartbeat\"", second);
        await admission.DisposeAsync();
    }

    [Fact]
    public async Task ExecuteAsync_OnFakeTime_SendsAHeartbeatPerIntervalToEachConnection_OneFrameShared()
    {
        await using var realtime = await InProcessRealtime.CreateAsync(redis, new RealtimeOptions { HeartbeatInterval = TimeSpan.FromSeconds(10) });
        using var monitor = realtime.Monitor();
        var (a, first) = Register(realtime, "u1");
        var (b, second) = Register(realtime, "u2");
        await monitor.StartAsync(Ct);
        try
        {
            await AdvanceUntilAsync(realtime.Time, () => first.QueuedCount > 0, TimeSpan.FromMilliseconds(250));

            Assert.True(realtime.Time.GetUtcNow() - first.LastActivity >= TimeSpan.FromSeconds(10));
            Assert.True(first.TryTakeQueued(out var x));
            Assert.True(second.TryTakeQueued(out var y));
            Assert.Same(x.Frame, y.Frame);
        }
        finally
        {
            await monitor.StopAsync(CancellationToken.None);
            await a.DisposeAsync();
            await b.DisposeAsync();
        }
    }

    [Fact]
    public async Task Sweep_TokenExpired_ClosesWithUnauthorized()
    {
        await using var realtime = await InProcessRealtime.CreateAsync(redis);
        var expires = realtime.Time.GetUtcNow() + TimeSpan.FromMinutes(5);
        var connection = new ClientConnection("c", "alice", false, StreamKind.Notifications, 8, expires, realtime.Time.GetUtcNow())
        {
            HeartbeatInterval = TimeSpan.FromHours(1),
            NextHeartbeat = realtime.Time.GetUtcNow() + TimeSpan.FromHours(1),
        };
        var admission = realtime.Registry.TryAdmit()!;
        admission.Register(connection);
        var monitor = realtime.Monitor();

        monitor.Sweep(expires - TimeSpan.FromMilliseconds(1));
        Assert.Null(connection.CloseReason);
        monitor.Sweep(expires);

        Assert.Equal(4001, connection.CloseReason?.Code);
        await admission.DisposeAsync();
    }

    [Fact]
    public async Task Session_SseTaskStreamIdlePastItsLimit_ClosedAsIdle_EverythingGivenBack()
    {
        await using var realtime = await InProcessRealtime.CreateAsync(redis, sse: new SseOptions { TaskMaxIdleSeconds = 60, PollTimeoutSeconds = 3600, HeartbeatIntervalSeconds = 3600 });
        var task = await realtime.Backplane.Queue.EnqueueAsync("alice", "demo", null, Ct);
        using var transport = new MemoryTransport(isSse: true);
        var run = realtime.RunAsync(transport, realtime.Token("alice"), StreamKind.Task, task.Id);
        await transport.NextOfTypeAsync("progress");
        var opened = realtime.Time.GetUtcNow();
        var monitor = realtime.Monitor();

        monitor.Sweep(opened + TimeSpan.FromSeconds(59));
        Assert.Null(transport.Connection!.CloseReason);
        monitor.Sweep(opened + TimeSpan.FromSeconds(60));

        Assert.Equal(CloseReason.Idle, await transport.Closed.WaitAsync(InProcessRealtime.Wait, Ct));
        await run.WaitAsync(InProcessRealtime.Wait, Ct);
        Assert.Equal(0, realtime.Registry.Count);
        Assert.Equal(0, realtime.Registry.Admitted);
    }

    [Fact]
    public async Task Sweep_WebSocketTaskStream_HasNoIdleLimit()
    {
        await using var realtime = await InProcessRealtime.CreateAsync(redis, sse: new SseOptions { TaskMaxIdleSeconds = 60 });
        var task = await realtime.Backplane.Queue.EnqueueAsync("bob", "demo", null, Ct);
        using var transport = new MemoryTransport();
        var run = realtime.RunAsync(transport, realtime.Token("bob"), StreamKind.Task, task.Id);
        await transport.NextOfTypeAsync("progress");

        realtime.Monitor().Sweep(realtime.Time.GetUtcNow() + TimeSpan.FromMinutes(10));

        Assert.Null(transport.Connection!.CloseReason);
        transport.Leave();
        await run.WaitAsync(InProcessRealtime.Wait, Ct);
    }

    private static (ConnectionRegistry.Admission, ClientConnection) Register(InProcessRealtime realtime, string userId = "alice")
    {
        var admission = realtime.Registry.TryAdmit()!;
        var connection = realtime.NewConnection(userId: userId);
        admission.Register(connection);
        return (admission, connection);
    }

    private static string Read(ClientConnection connection)
    {
        Assert.True(connection.TryTakeQueued(out var frame), "no frame queued");
        return Encoding.UTF8.GetString(frame.Bytes.Span);
    }

    /// <summary>Moves fake time in <paramref name="step"/>s until <paramref name="condition"/> holds (the timer runs on the thread pool).</summary>
    private static async Task AdvanceUntilAsync(FakeTimeProvider time, Func<bool> condition, TimeSpan step)
    {
        var deadline = TimeProvider.System.GetUtcNow() + InProcessRealtime.Wait;
        while (!condition())
        {
            Assert.True(TimeProvider.System.GetUtcNow() < deadline, "condition not met in time");
            time.Advance(step);
            await Task.Delay(10, Ct);
        }
    }
}
