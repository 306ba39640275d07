using Notify.Core.Tasks;
using Notify.Realtime.Connections;
using Notify.Realtime.Options;
using Notify.Realtime.Sessions;
using Notify.Tests.Infrastructure;

namespace Notify.Tests.Realtime;

/// <summary>One connection lifetime (<see cref="ConnectionSession"/>) on fake time, over an in-memory wire.</summary>
public sealed class ConnectionSessionTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RunAsync_ValidToken_OpensRegisteredAndGivesEverythingBackWhenTheClientLeaves()
    {
        await using var realtime = await InProcessRealtime.CreateAsync(redis);
        using var transport = new MemoryTransport();
        var run = realtime.RunAsync(transport, realtime.Token("alice"));

        var connected = await transport.NextOfTypeAsync("connected");
        Assert.Contains("\"user_id\":\"alice\"", connected);
        Assert.Equal(1, realtime.Registry.Count);
        Assert.Equal(1, realtime.Registry.Admitted);
        Assert.Equal(1, realtime.Registry.UserConnections("alice"));
        Assert.Equal(2, realtime.Registry.Feeds().Count);

        transport.Leave();
        await run.WaitAsync(InProcessRealtime.Wait, Ct);

        Assert.Equal(CloseReason.ClientClosed, await transport.Closed.WaitAsync(InProcessRealtime.Wait, Ct));
        AssertNothingHeld(realtime, "alice");
        Assert.False(transport.Aborted);
    }

    [Fact]
    public async Task RunAsync_NotificationPublished_ReachesTheStream()
    {
        await using var realtime = await InProcessRealtime.CreateAsync(redis);
        using var transport = new MemoryTransport();
        var run = realtime.RunAsync(transport, realtime.Token("bob"));
        await transport.NextOfTypeAsync("connected");

        var notification = await realtime.Backplane.NotifyAsync("bob", "hello");

        Assert.Contains(notification.Id, await transport.NextOfTypeAsync("notification"));
        transport.Leave();
        await run.WaitAsync(InProcessRealtime.Wait, Ct);
    }

    [Theory]
    [InlineData(null, "Notifications", "Unauthorized")]
    [InlineData("not-a-token", "Notifications", "Unauthorized")]
    [InlineData("user", "Admin", "NotAdmin")]
    [InlineData("user", "Task", "NotFound")]
    [InlineData("user", "Batch", "NotFound")]
    public async Task RunAsync_NotAllowed_RefusedWithTheReasonAndNothingHeld(string? token, string streamKind, string refusal)
    {
        var kind = Enum.Parse<StreamKind>(streamKind);
        var expected = Enum.Parse<Refusal>(refusal);
        await using var realtime = await InProcessRealtime.CreateAsync(redis);
        using var transport = new MemoryTransport();

        await realtime.RunAsync(transport, token == "user" ? realtime.Token("carol") : token, kind, resourceId: "missing").WaitAsync(InProcessRealtime.Wait, Ct);

        Assert.Equal(expected, Assert.Single(transport.Refusals));
        Assert.True(transport.Accepted);
        Assert.Null(transport.Connection);
        AssertNothingHeld(realtime, "carol");
    }

    [Fact]
    public async Task RunAsync_SomeoneElsesTask_RefusedAsNotFound_ItsOwnerIsLetIn()
    {
        await using var realtime = await InProcessRealtime.CreateAsync(redis);
        var task = await realtime.Backplane.Queue.EnqueueAsync("owner", "demo", null, Ct);
        using var stranger = new MemoryTransport();
        using var owner = new MemoryTransport();

        await realtime.RunAsync(stranger, realtime.Token("stranger"), StreamKind.Task, task.Id).WaitAsync(InProcessRealtime.Wait, Ct);
        var run = realtime.RunAsync(owner, realtime.Token("owner"), StreamKind.Task, task.Id);

        Assert.Equal(Refusal.NotFound, Assert.Single(stranger.Refusals));
        Assert.Contains(task.Id, await owner.NextOfTypeAsync("connected"));
        owner.Leave();
        await run.WaitAsync(InProcessRealtime.Wait, Ct);
    }

    [Fact]
    public async Task RunAsync_InstanceFull_RefusedBeforeAccepting_UntilTheFirstLeaves()
    {
        await using var realtime = await InProcessRealtime.CreateAsync(redis, new RealtimeOptions { MaxConnections = 1 });
        using var first = new MemoryTransport();
        using var second = new MemoryTransport();
        using var third = new MemoryTransport();
        var running = realtime.RunAsync(first, realtime.Token("dave"));
        await first.NextOfTypeAsync("connected");

        await realtime.RunAsync(second, realtime.Token("erin")).WaitAsync(InProcessRealtime.Wait, Ct);
        first.Leave();
        await running.WaitAsync(InProcessRealtime.Wait, Ct);
        var again = realtime.RunAsync(third, realtime.Token("erin"));

        Assert.Equal(Refusal.InstanceFull, Assert.Single(second.Refusals));
        Assert.False(second.Accepted);
        await third.NextOfTypeAsync("connected");
        third.Leave();
        await again.WaitAsync(InProcessRealtime.Wait, Ct);
        AssertNothingHeld(realtime, "erin");
    }

    [Fact]
    public async Task RunAsync_UserAtTheLimit_ExactlyTheLimitOpens_TheNextIsRefused()
    {
        await using var realtime = await InProcessRealtime.CreateAsync(redis, new RealtimeOptions { MaxConnectionsPerUser = 2 });
        using var a = new MemoryTransport();
        using var b = new MemoryTransport();
        using var c = new MemoryTransport();
        var runA = realtime.RunAsync(a, realtime.Token("frank"));
        var runB = realtime.RunAsync(b, realtime.Token("frank"), StreamKind.Notifications);
        await a.NextOfTypeAsync("connected");
        await b.NextOfTypeAsync("connected");

        await realtime.RunAsync(c, realtime.Token("frank")).WaitAsync(InProcessRealtime.Wait, Ct);

        Assert.Equal(Refusal.TooManyConnections, Assert.Single(c.Refusals));
        Assert.Equal(2, realtime.Registry.UserConnections("frank"));
        a.Leave();
        b.Leave();
        await Task.WhenAll(runA, runB).WaitAsync(InProcessRealtime.Wait, Ct);
        AssertNothingHeld(realtime, "frank");
    }

    [Theory]
    [InlineData(MemoryTransportPart.Accept)]
    [InlineData(MemoryTransportPart.Open)]
    [InlineData(MemoryTransportPart.Write)]
    [InlineData(MemoryTransportPart.Read)]
    public async Task RunAsync_TransportFails_EverySlotIsGivenBack(MemoryTransportPart part)
    {
        await using var realtime = await InProcessRealtime.CreateAsync(redis);
        using var transport = new MemoryTransport { FailIn = part };

        await realtime.RunAsync(transport, realtime.Token("gina")).WaitAsync(InProcessRealtime.Wait, Ct);

        if (part is MemoryTransportPart.Accept or MemoryTransportPart.Open)
        {
            Assert.Equal(Refusal.SetupFailed, Assert.Single(transport.Refusals));
        }
        else
        {
            Assert.Equal(CloseReason.InternalError, transport.Connection!.CloseReason);
        }
        AssertNothingHeld(realtime, "gina");
    }

    [Fact]
    public async Task RunAsync_TaskEndedBeforeItOpened_SnapshotEndsTheStreamWithNormalAndGivesEverythingBack()
    {
        await using var realtime = await InProcessRealtime.CreateAsync(redis);
        var task = await realtime.Backplane.Queue.EnqueueAsync("hank", "demo", null, Ct);
        await realtime.Backplane.Queue.CancelAsync(task.Id, Ct);
        using var transport = new MemoryTransport();

        var run = realtime.RunAsync(transport, realtime.Token("hank"), StreamKind.Task, task.Id);

        await transport.NextOfTypeAsync("progress");
        Assert.Contains("\"cancelled\"", await transport.NextOfTypeAsync("error"));
        Assert.Equal(CloseReason.Normal, await transport.Closed.WaitAsync(InProcessRealtime.Wait, Ct));
        await run.WaitAsync(InProcessRealtime.Wait, Ct);
        AssertNothingHeld(realtime, "hank");
    }

    [Fact]
    public async Task RunAsync_WriterHangsAfterClose_AbortedAfterTheCloseTimeout()
    {
        await using var realtime = await InProcessRealtime.CreateAsync(redis, new RealtimeOptions { CloseTimeout = TimeSpan.FromSeconds(5) });
        using var transport = new MemoryTransport { HangWriter = true };
        var run = realtime.RunAsync(transport, realtime.Token("iris"));
        await WaitUntilAsync(() => realtime.Registry.Count == 1 && realtime.Registry.Feeds().Count == 2);

        transport.Leave();
        await WaitUntilAsync(() => transport.Connection?.CloseReason is not null);
        var closedAt = realtime.Time.GetUtcNow();
        var deadline = TimeProvider.System.GetUtcNow() + InProcessRealtime.Wait;
        while (!transport.Aborted)
        {
            Assert.True(TimeProvider.System.GetUtcNow() < deadline, "never aborted");
            realtime.Time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Delay(10, Ct);
        }

        Assert.True(realtime.Time.GetUtcNow() - closedAt >= TimeSpan.FromSeconds(5), "aborted before Realtime:CloseTimeout");
        await run.WaitAsync(InProcessRealtime.Wait, Ct);
        Assert.True(transport.Aborted);
        AssertNothingHeld(realtime, "iris");
    }

    private static void AssertNothingHeld(InProcessRealtime realtime, string userId)
    {
        Assert.Equal(0, realtime.Registry.Count);
        Assert.Equal(0, realtime.Registry.Admitted);
        Assert.Equal(0, realtime.Registry.UserConnections(userId));
        Assert.Empty(realtime.Registry.Feeds());
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = TimeProvider.System.GetUtcNow() + InProcessRealtime.Wait;
        while (!condition())
        {
            Assert.True(TimeProvider.System.GetUtcNow() < deadline, "condition not met in time");
            await Task.Delay(20, Ct);
        }
    }
}
