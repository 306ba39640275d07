using Notify.Core.Tasks;
using Notify.Tests.Infrastructure;

namespace Notify.Tests.Tasks;

/// <summary>
/// The task queue on a primary with replicas (a Sentinel set): the writes a failover must not undo are
/// confirmed by a replica (<c>WAIT 1</c>) before they count, and fail as an outage does when none confirms.
/// </summary>
public sealed class ReplicatedTaskQueueTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Writes_NoReplicaConfirms_FailAsUnavailable_AndCountAgainOnceOneDoes()
    {
        await using var set = await RedisSentinelSet.StartAsync();
        await using var ctx = await QueueTestContext.CreateAsync(set);
        var running = await ctx.Queue.EnqueueAsync("alice", "demo", null, Ct);
        var leases = await ctx.Queue.DequeueAsync("worker-a", 1, ctx.Limits, Ct);
        Assert.Equal(running.Id, Assert.Single(leases).Task.Id);
        var waiting = await ctx.Queue.EnqueueAsync("alice", "demo", null, Ct);
        var progress = new TaskProgress { TaskId = running.Id, Status = TaskState.Running, Progress = 50, Timestamp = ctx.Time.GetUtcNow() };

        using (set.PauseReplicas())
        {
            // Not acknowledged: a failover now could lose it.
            await Assert.ThrowsAsync<TaskQueueUnavailableException>(() => ctx.Queue.EnqueueAsync("alice", "demo", null, Ct));
            // Not handed out: a promoted replica would still hold the task as queued for another Worker.
            await Assert.ThrowsAsync<TaskQueueUnavailableException>(() => ctx.Queue.DequeueAsync("worker-b", 1, ctx.Limits, Ct));
            // Not proven: a promoted replica would still hold the older expiry.
            await Assert.ThrowsAsync<TaskQueueUnavailableException>(() => ctx.Queue.RenewAsync(leases, ctx.Options.VisibilityTimeout, Ct));
            await Assert.ThrowsAsync<TaskQueueUnavailableException>(() => ctx.Queue.ReportProgressAsync(leases[0], progress, ctx.Options.VisibilityTimeout, Ct));
        }

        Assert.Equal([LeaseStatus.Held], await ctx.Queue.RenewAsync(leases, ctx.Options.VisibilityTimeout, Ct));
        Assert.Equal(LeaseStatus.Held, await ctx.Queue.ReportProgressAsync(leases[0], progress, ctx.Options.VisibilityTimeout, Ct));
        // The refused dequeue's lease was never handed out; the task runs once its lease expires and is recovered.
        Assert.Equal(TaskState.Running, (await ctx.Queue.GetAsync(waiting.Id, Ct))!.Status);
        Assert.NotNull(await ctx.Queue.EnqueueAsync("alice", "demo", null, Ct));
    }
}
