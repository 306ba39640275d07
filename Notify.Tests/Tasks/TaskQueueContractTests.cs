using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Notify.Core.Tasks;

namespace Notify.Tests.Tasks;

/// <summary>A task queue under test on private storage, with the options and clock it was made with.</summary>
public interface ITaskQueueHarness : IAsyncDisposable
{
    ITaskQueue Queue { get; }
    QueueOptions Options { get; }
    TimeProvider Time { get; }
    /// <summary>The clock when the harness was made with fake time, else null.</summary>
    FakeTimeProvider? FakeTime { get; }
    QueueLimits Limits => Options.Limits;
}

/// <summary>
/// The behaviour every <see cref="ITaskQueue"/> must have, as the port documents it: FIFO within the
/// per-user and global limits, leases checked on every change, retry and recovery up to the attempt
/// limit, cancel, release, and the caps on waiting tasks. Subclasses only supply a queue on private storage.
/// </summary>
public abstract class TaskQueueContractTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected static JsonElement Params(int n) => JsonSerializer.SerializeToElement(new { n });

    /// <summary>A queue on fresh storage with <paramref name="configure"/> applied to default options.</summary>
    protected abstract Task<ITaskQueueHarness> CreateAsync(Action<QueueOptions>? configure = null, bool fakeTime = false);

    [Fact]
    public async Task DequeueAsync_TasksOfSeveralUsers_ServedInEnqueueOrder()
    {
        await using var ctx = await CreateAsync(o => o.PerUserConcurrency = 100);
        var ids = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            ids.Add((await ctx.Queue.EnqueueAsync(i % 2 == 0 ? "alice" : "bob", "demo", Params(i), Ct)).Id);
        }

        var leases = await ctx.Queue.DequeueAsync("w1", 10, ctx.Limits, Ct);

        Assert.Equal(ids, leases.Select(l => l.Task.Id));
        Assert.Equal([0, 1, 2, 3, 4, 5], leases.Select(l => l.Task.Params!.Value.GetProperty("n").GetInt32()));
        Assert.All(leases, l => Assert.Equal(1, l.Task.Attempts));
    }

    [Fact]
    public async Task DequeueAsync_UserAtLimit_SkippedWithoutBlockingOthers()
    {
        await using var ctx = await CreateAsync(o => { o.PerUserConcurrency = 1; o.GlobalConcurrency = 10; });
        var a1 = await ctx.Queue.EnqueueAsync("alice", "demo", null, Ct);
        var a2 = await ctx.Queue.EnqueueAsync("alice", "demo", null, Ct);
        var b1 = await ctx.Queue.EnqueueAsync("bob", "demo", null, Ct);
        var a3 = await ctx.Queue.EnqueueAsync("alice", "demo", null, Ct);
        var c1 = await ctx.Queue.EnqueueAsync("carol", "demo", null, Ct);

        var first = await ctx.Queue.DequeueAsync("w1", 10, ctx.Limits, Ct);
        Assert.Equal([a1.Id, b1.Id, c1.Id], first.Select(l => l.Task.Id));
        Assert.Empty(await ctx.Queue.DequeueAsync("w1", 10, ctx.Limits, Ct));

        await ctx.Queue.AckAsync(first[0], TaskOutcome.Completed, null, null, retryable: false, Ct);
        var second = await ctx.Queue.DequeueAsync("w1", 10, ctx.Limits, Ct);
        Assert.Equal([a2.Id], second.Select(l => l.Task.Id));
        await ctx.Queue.AckAsync(second[0], TaskOutcome.Completed, null, null, retryable: false, Ct);
        Assert.Equal([a3.Id], (await ctx.Queue.DequeueAsync("w1", 10, ctx.Limits, Ct)).Select(l => l.Task.Id));
    }

    [Fact]
    public async Task DequeueAsync_GlobalLimitReached_ReturnsNothingUntilASlotFrees()
    {
        await using var ctx = await CreateAsync(o => { o.PerUserConcurrency = 10; o.GlobalConcurrency = 2; });
        for (var i = 0; i < 4; i++)
        {
            await ctx.Queue.EnqueueAsync("u" + i, "demo", null, Ct);
        }

        var leases = await ctx.Queue.DequeueAsync("w1", 10, ctx.Limits, Ct);
        Assert.Equal(2, leases.Count);
        Assert.Empty(await ctx.Queue.DequeueAsync("w2", 10, ctx.Limits, Ct));
        Assert.Equal(new QueueStats(2, 2, 0, 0, 0), await ctx.Queue.GetStatsAsync(Ct));

        await ctx.Queue.AckAsync(leases[0], TaskOutcome.Completed, null, null, false, Ct);
        Assert.Single(await ctx.Queue.DequeueAsync("w2", 10, ctx.Limits, Ct));
    }

    [Fact]
    public async Task AckAsync_StaleLeaseAfterRecovery_IsRefusedAndNewHolderFinishes()
    {
        await using var ctx = await CreateAsync(o => o.VisibilityTimeout = TimeSpan.FromSeconds(10), fakeTime: true);
        var task = await ctx.Queue.EnqueueAsync("alice", "demo", null, Ct);
        var first = (await ctx.Queue.DequeueAsync("w1", 1, ctx.Limits, Ct)).Single();

        ctx.FakeTime!.Advance(TimeSpan.FromSeconds(11));
        var recovered = await ctx.Queue.RecoverExpiredAsync(ctx.Limits, 100, Ct);
        Assert.Equal(TransitionKind.Requeued, Assert.Single(recovered).Kind);

        var second = (await ctx.Queue.DequeueAsync("w2", 1, ctx.Limits, Ct)).Single();
        Assert.Equal(task.Id, second.Task.Id);
        Assert.Equal(2, second.Task.Attempts);

        Assert.Equal(TransitionKind.None, (await ctx.Queue.AckAsync(first, TaskOutcome.Completed, null, null, false, Ct)).Kind);
        Assert.Equal(LeaseStatus.Lost, await ctx.Queue.ReportProgressAsync(first, new TaskProgress { TaskId = task.Id, Progress = 50, Timestamp = ctx.Time.GetUtcNow() }, ctx.Options.VisibilityTimeout, Ct));
        Assert.Equal([LeaseStatus.Lost, LeaseStatus.Held], await ctx.Queue.RenewAsync([first, second], ctx.Options.VisibilityTimeout, Ct));

        var done = await ctx.Queue.AckAsync(second, TaskOutcome.Completed, null, JsonSerializer.SerializeToElement(new { ok = true }), false, Ct);
        Assert.Equal(TransitionKind.Finished, done.Kind);
        var stored = await ctx.Queue.GetAsync(task.Id, Ct);
        Assert.Equal(TaskState.Completed, stored!.Status);
        Assert.True(stored.Result!.Value.GetProperty("ok").GetBoolean());
        Assert.Equal(new QueueStats(0, 0, 1, 0, 0), await ctx.Queue.GetStatsAsync(Ct));
    }

    [Fact]
    public async Task RenewAsync_BeforeTimeout_KeepsTaskFromRecovery()
    {
        await using var ctx = await CreateAsync(o => o.VisibilityTimeout = TimeSpan.FromSeconds(10), fakeTime: true);
        await ctx.Queue.EnqueueAsync("alice", "demo", null, Ct);
        var lease = (await ctx.Queue.DequeueAsync("w1", 1, ctx.Limits, Ct)).Single();

        ctx.FakeTime!.Advance(TimeSpan.FromSeconds(8));
        Assert.Equal([LeaseStatus.Held], await ctx.Queue.RenewAsync([lease], ctx.Options.VisibilityTimeout, Ct));
        ctx.FakeTime.Advance(TimeSpan.FromSeconds(8));

        Assert.Empty(await ctx.Queue.RecoverExpiredAsync(ctx.Limits, 100, Ct));
    }

    [Fact]
    public async Task AckAsync_FailedWithAttemptsLeft_RequeuesAtBackThenFailsAtMax()
    {
        await using var ctx = await CreateAsync(o => o.MaxAttempts = 2);
        var task = await ctx.Queue.EnqueueAsync("alice", "demo", null, Ct);
        var other = await ctx.Queue.EnqueueAsync("bob", "demo", null, Ct);

        var first = (await ctx.Queue.DequeueAsync("w1", 1, ctx.Limits, Ct)).Single();
        Assert.Equal(TransitionKind.Requeued, (await ctx.Queue.AckAsync(first, TaskOutcome.Failed, "boom", null, true, Ct)).Kind);
        Assert.Equal("boom", (await ctx.Queue.GetAsync(task.Id, Ct))!.Error);

        var next = await ctx.Queue.DequeueAsync("w1", 2, ctx.Limits, Ct);
        Assert.Equal([other.Id, task.Id], next.Select(l => l.Task.Id));
        var last = await ctx.Queue.AckAsync(next[1], TaskOutcome.Failed, "boom again", null, true, Ct);

        Assert.Equal(TransitionKind.Finished, last.Kind);
        Assert.Equal(TaskState.Failed, last.Status);
        Assert.Equal(2, last.Attempts);
        Assert.Equal("alice", last.UserId);
    }

    [Fact]
    public async Task CancelAsync_QueuedTask_CancelledAtOnceAndNeverDequeued()
    {
        await using var ctx = await CreateAsync();
        var task = await ctx.Queue.EnqueueAsync("alice", "demo", null, Ct);
        var after = await ctx.Queue.EnqueueAsync("alice", "demo", null, Ct);

        var cancel = await ctx.Queue.CancelAsync(task.Id, Ct);

        Assert.Equal(TransitionKind.Finished, cancel.Kind);
        Assert.Equal(TaskState.Cancelled, (await ctx.Queue.GetAsync(task.Id, Ct))!.Status);
        Assert.Equal([after.Id], (await ctx.Queue.DequeueAsync("w1", 10, ctx.Limits, Ct)).Select(l => l.Task.Id));
        Assert.Equal(TransitionKind.None, (await ctx.Queue.CancelAsync(task.Id, Ct)).Kind);
        Assert.Equal(TransitionKind.None, (await ctx.Queue.CancelAsync("missing", Ct)).Kind);
    }

    [Fact]
    public async Task CancelAsync_RunningTask_SignalsWorkerAndAckEndsCancelled()
    {
        await using var ctx = await CreateAsync();
        var cancelled = new TaskCompletionSource<string>();
        await using var sub = await ctx.Queue.SubscribeAsync(() => { }, id => cancelled.TrySetResult(id), Ct);
        var task = await ctx.Queue.EnqueueAsync("alice", "demo", null, Ct);
        var lease = (await ctx.Queue.DequeueAsync("w1", 1, ctx.Limits, Ct)).Single();

        Assert.Equal(TransitionKind.CancelRequested, (await ctx.Queue.CancelAsync(task.Id, Ct)).Kind);

        Assert.Equal(task.Id, await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(5), Ct));
        Assert.Equal([LeaseStatus.CancelRequested], await ctx.Queue.RenewAsync([lease], ctx.Options.VisibilityTimeout, Ct));
        var ack = await ctx.Queue.AckAsync(lease, TaskOutcome.Failed, "handler saw cancellation", null, retryable: true, Ct);
        Assert.Equal(TaskState.Cancelled, ack.Status);
        Assert.Equal(new QueueStats(0, 0, 0, 0, 1), await ctx.Queue.GetStatsAsync(Ct));
    }

    [Fact]
    public async Task EnqueueAsync_UserQueueCapReached_ThrowsQueueFull()
    {
        await using var ctx = await CreateAsync(o => o.MaxQueuedPerUser = 2);
        await ctx.Queue.EnqueueAsync("alice", "demo", null, Ct);
        await ctx.Queue.EnqueueAsync("alice", "demo", null, Ct);

        await Assert.ThrowsAsync<QueueFullException>(() => ctx.Queue.EnqueueAsync("alice", "demo", null, Ct));
        await Assert.ThrowsAsync<QueueFullException>(() => ctx.Queue.EnqueueBatchAsync("bob", "demo", [null, null, null], Ct));
        Assert.NotNull(await ctx.Queue.EnqueueAsync("bob", "demo", null, Ct));
    }

    [Fact]
    public async Task ReleaseAsync_RunningTask_ReturnsToFrontWithoutCountingAttempt()
    {
        await using var ctx = await CreateAsync();
        var first = await ctx.Queue.EnqueueAsync("alice", "demo", null, Ct);
        await ctx.Queue.EnqueueAsync("bob", "demo", null, Ct);
        var lease = (await ctx.Queue.DequeueAsync("w1", 1, ctx.Limits, Ct)).Single();

        Assert.Equal(TransitionKind.Requeued, (await ctx.Queue.ReleaseAsync(lease, Ct)).Kind);

        var again = (await ctx.Queue.DequeueAsync("w2", 1, ctx.Limits, Ct)).Single();
        Assert.Equal(first.Id, again.Task.Id);
        Assert.Equal(1, again.Task.Attempts);
    }

    [Fact]
    public async Task Finish_AnyWay_DropsParamsAndKeepsTheOutcome()
    {
        await using var ctx = await CreateAsync(o => o.MaxAttempts = 1, fakeTime: true);
        var completed = await ctx.Queue.EnqueueAsync("alice", "demo", Params(1), Ct);
        var cancelled = await ctx.Queue.EnqueueAsync("alice", "demo", Params(2), Ct);
        var lost = await ctx.Queue.EnqueueAsync("alice", "demo", Params(3), Ct);
        var queued = await ctx.Queue.EnqueueAsync("alice", "demo", Params(4), Ct);

        await ctx.Queue.CancelAsync(cancelled.Id, Ct);
        var leases = await ctx.Queue.DequeueAsync("w1", 2, ctx.Limits, Ct);
        await ctx.Queue.AckAsync(leases.Single(l => l.Task.Id == completed.Id), TaskOutcome.Completed, null, JsonSerializer.SerializeToElement(new { ok = true }), false, Ct);
        ctx.FakeTime!.Advance(ctx.Options.VisibilityTimeout + TimeSpan.FromSeconds(1));
        await ctx.Queue.RecoverExpiredAsync(ctx.Limits, 10, Ct);

        foreach (var (id, state) in new[] { (completed.Id, TaskState.Completed), (cancelled.Id, TaskState.Cancelled), (lost.Id, TaskState.Failed) })
        {
            var record = (await ctx.Queue.GetAsync(id, Ct))!;
            Assert.Equal(state, record.Status);
            Assert.Null(record.Params);
        }
        Assert.True((await ctx.Queue.GetAsync(completed.Id, Ct))!.Result!.Value.GetProperty("ok").GetBoolean());
        Assert.Equal(4, (await ctx.Queue.GetAsync(queued.Id, Ct))!.Params!.Value.GetProperty("n").GetInt32());
    }

    [Fact]
    public async Task SubscribeAsync_Signals_WorkOnEnqueueAndCancelOfARunningTask()
    {
        await using var ctx = await CreateAsync();
        var work = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelled = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (await ctx.Queue.SubscribeAsync(() => work.TrySetResult(), id => cancelled.TrySetResult(id), Ct))
        {
            var task = await ctx.Queue.EnqueueAsync("alice", "demo", null, Ct);
            await work.Task.WaitAsync(Patience, Ct);

            var lease = (await ctx.Queue.DequeueAsync("w1", 1, ctx.Limits, Ct)).Single();
            Assert.Equal(TransitionKind.CancelRequested, (await ctx.Queue.CancelAsync(lease.Task.Id, Ct)).Kind);
            Assert.Equal(task.Id, await cancelled.Task.WaitAsync(Patience, Ct));
        }
    }

    [Fact]
    public async Task GetAsync_UnknownOrMalformedIds_AreNull()
    {
        await using var ctx = await CreateAsync();

        Assert.Null(await ctx.Queue.GetAsync("not-a-task-id", Ct));
        Assert.Null(await ctx.Queue.GetBatchAsync("not-a-batch-id", Ct));
    }
}
