using System.Collections.Concurrent;
using System.Text.Json;
using Notify.Core.Messaging;
using Notify.Core.Tasks;
using Notify.Tests.Infrastructure;

namespace Notify.Tests.Tasks;

public sealed class RedisTaskQueueTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static JsonElement Params(int n) => JsonSerializer.SerializeToElement(new { n });

    [Fact]
    public async Task RecoverExpiredAsync_AtMaxAttempts_FailsWithReason()
    {
        await using var ctx = await QueueTestContext.CreateAsync(redis, o => { o.VisibilityTimeout = TimeSpan.FromSeconds(5); o.MaxAttempts = 2; }, fakeTime: true);
        var task = await ctx.Queue.EnqueueAsync("alice", "demo", null, Ct);
        for (var attempt = 1; attempt <= 2; attempt++)
        {
            Assert.Single(await ctx.Queue.DequeueAsync("w" + attempt, 1, ctx.Limits, Ct));
            ctx.FakeTime!.Advance(TimeSpan.FromSeconds(6));
            var transition = Assert.Single(await ctx.Queue.RecoverExpiredAsync(ctx.Limits, 100, Ct));
            Assert.Equal(attempt == 1 ? TransitionKind.Requeued : TransitionKind.Finished, transition.Kind);
        }

        var stored = await ctx.Queue.GetAsync(task.Id, Ct);
        Assert.Equal(TaskState.Failed, stored!.Status);
        Assert.Contains("2 attempts", stored.Error, StringComparison.Ordinal);
        Assert.Equal(TaskState.Failed, (await ctx.Progress.GetTaskAsync(task.Id, Ct))!.Status);
        Assert.Equal(new QueueStats(0, 0, 0, 1, 0), await ctx.Queue.GetStatsAsync(Ct));
    }

    [Fact]
    public async Task EnqueueBatchAsync_Lifecycle_CountsAddUpAndFinishOnce()
    {
        await using var ctx = await QueueTestContext.CreateAsync(redis, o => { o.PerUserConcurrency = 10; o.MaxAttempts = 1; });
        var batch = await ctx.Queue.EnqueueBatchAsync("alice", "demo", [Params(1), Params(2), Params(3), Params(4)], Ct);
        Assert.Equal(new BatchCounts(4, 4, 0, 0, 0, 0), (await ctx.Queue.GetBatchAsync(batch.Id, Ct))!.Counts);

        var leases = await ctx.Queue.DequeueAsync("w1", 3, ctx.Limits, Ct);
        Assert.Equal(new BatchCounts(4, 1, 3, 0, 0, 0), leases[^1].Batch);
        var transitions = new List<TaskTransition>
        {
            await ctx.Queue.AckAsync(leases[0], TaskOutcome.Completed, null, null, false, Ct),
            await ctx.Queue.AckAsync(leases[1], TaskOutcome.Failed, "x", null, true, Ct),
            await ctx.Queue.CancelAsync(batch.TaskIds[3], Ct),
            await ctx.Queue.AckAsync(leases[2], TaskOutcome.Completed, null, null, false, Ct),
        };

        Assert.Equal([false, false, false, true], transitions.Select(t => t.BatchFinished));
        var final = (await ctx.Queue.GetBatchAsync(batch.Id, Ct))!;
        Assert.Equal(new BatchCounts(4, 0, 0, 2, 1, 1), final.Counts);
        Assert.Equal(batch.TaskIds, final.TaskIds);
        Assert.NotNull(final.FinishedAt);
        var progress = (await ctx.Progress.GetBatchAsync(batch.Id, Ct))!;
        Assert.Equal(100, progress.Progress);
    }

    [Fact]
    public async Task ReportProgressAsync_Updates_PublishedInOrderSnapshotKeptAndLowerValueDropped()
    {
        await using var ctx = await QueueTestContext.CreateAsync(redis);
        var task = await ctx.Queue.EnqueueAsync("alice", "demo", null, Ct);
        Assert.Equal(TaskState.Queued, (await ctx.Progress.GetTaskAsync(task.Id, Ct))!.Status);
        var frames = new ConcurrentQueue<string>();
        var terminal = new TaskCompletionSource();
        // In publish order: a message queue, not a (concurrently run) handler.
        var messages = await ctx.Redis.GetSubscriber().SubscribeAsync(StackExchange.Redis.RedisChannel.Literal(ctx.Channels.For(BusTopic.Task(task.Id))));
        messages.OnMessage(message =>
        {
            var text = System.Text.Encoding.UTF8.GetString(RedisMessageBus.FrameOf((byte[])message.Message!).Span);
            frames.Enqueue(text);
            if (text.Contains("\"completed\"", StringComparison.Ordinal))
            {
                terminal.TrySetResult();
            }
        });
        var lease = (await ctx.Queue.DequeueAsync("w1", 1, ctx.Limits, Ct)).Single();

        foreach (var pct in new[] { 10.0, 40.0, 30.0, 70.0 })
        {
            await ctx.Queue.ReportProgressAsync(lease, new TaskProgress { TaskId = task.Id, Status = TaskState.Running, Progress = pct, Step = 1, TotalSteps = 2, Timestamp = ctx.Time.GetUtcNow() }, ctx.Options.VisibilityTimeout, Ct);
        }
        Assert.Equal(70, (await ctx.Progress.GetTaskAsync(task.Id, Ct))!.Progress);
        await ctx.Queue.AckAsync(lease, TaskOutcome.Completed, null, null, false, Ct);
        await terminal.Task.WaitAsync(TimeSpan.FromSeconds(5), Ct);

        var parsed = frames.Select(f => JsonDocument.Parse(f).RootElement).ToList();
        Assert.Equal(["progress", "progress", "progress", "completed"], parsed.Select(p => p.GetProperty("type").GetString()));
        Assert.Equal([10.0, 40.0, 70.0], parsed.Take(3).Select(p => p.GetProperty("data").GetProperty("progress").GetDouble()));
        var snapshot = (await ctx.Progress.GetTaskAsync(task.Id, Ct))!;
        Assert.Equal(TaskState.Completed, snapshot.Status);
        Assert.Equal(100, snapshot.Progress);
    }

    [Fact]
    public async Task Finish_BeyondMaxFinishedPerUser_DeletesTheUsersOldestFinishedOnly()
    {
        await using var ctx = await QueueTestContext.CreateAsync(redis, o => o.MaxFinishedPerUser = 3, fakeTime: true);
        var mine = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            mine.Add((await ctx.Queue.EnqueueAsync("alice", "demo", null, Ct)).Id);
        }
        var others = (await ctx.Queue.EnqueueAsync("bob", "demo", null, Ct)).Id;
        await ctx.Queue.CancelAsync(others, Ct);

        // At the cap: all three kept.
        foreach (var id in mine)
        {
            ctx.FakeTime!.Advance(TimeSpan.FromMilliseconds(5));
            await ctx.Queue.CancelAsync(id, Ct);
        }
        foreach (var id in mine)
        {
            Assert.NotNull(await ctx.Queue.GetAsync(id, Ct));
        }

        // One more (a batch of one: its task and the batch both count): the two oldest go, snapshot too.
        ctx.FakeTime!.Advance(TimeSpan.FromMilliseconds(5));
        var batch = await ctx.Queue.EnqueueBatchAsync("alice", "demo", [null], Ct);
        await ctx.Queue.CancelAsync(batch.TaskIds[0], Ct);

        Assert.Null(await ctx.Queue.GetAsync(mine[0], Ct));
        Assert.Null(await ctx.Progress.GetTaskAsync(mine[0], Ct));
        Assert.Null(await ctx.Queue.GetAsync(mine[1], Ct));
        Assert.NotNull(await ctx.Queue.GetAsync(mine[2], Ct));
        Assert.NotNull(await ctx.Queue.GetAsync(batch.TaskIds[0], Ct));
        Assert.NotNull(await ctx.Queue.GetBatchAsync(batch.Id, Ct));
        Assert.NotNull(await ctx.Queue.GetAsync(others, Ct));
        // The index itself is bounded and expires with the tasks.
        var index = $"{ctx.Options.KeyPrefix}:ufin:alice";
        Assert.Equal(3, await ctx.Redis.GetDatabase().SortedSetLengthAsync(index));
        Assert.NotNull(await ctx.Redis.GetDatabase().KeyTimeToLiveAsync(index));
    }

    [Fact]
    public async Task Lookups_IdsThatAddressOtherKeys_FindNothingInsteadOfFailing()
    {
        await using var ctx = await QueueTestContext.CreateAsync(redis);
        var batch = await ctx.Queue.EnqueueBatchAsync("alice", "demo", [Params(1)], Ct);

        // batch:{id}:tasks is a list and task ids are hashes: read as the wrong type, Redis would refuse.
        Assert.Null(await ctx.Queue.GetBatchAsync(batch.Id + ":tasks", Ct));
        Assert.Null(await ctx.Progress.GetBatchAsync(batch.Id + ":tasks", Ct));
        Assert.Null(await ctx.Queue.GetAsync(batch.Id + ":tasks", Ct));
        Assert.Null(await ctx.Progress.GetTaskAsync(batch.TaskIds[0].ToUpperInvariant(), Ct));
        Assert.Equal(TransitionKind.None, (await ctx.Queue.CancelAsync("../" + batch.TaskIds[0], Ct)).Kind);
        Assert.NotNull(await ctx.Queue.GetBatchAsync(batch.Id, Ct));
        Assert.NotNull(await ctx.Progress.GetTaskAsync(batch.TaskIds[0], Ct));
    }
}
