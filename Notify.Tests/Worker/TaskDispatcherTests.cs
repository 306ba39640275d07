using System.Collections.Concurrent;
using System.Text.Json;
using Notify.Core.Tasks;
using Notify.Tests.Infrastructure;

namespace Notify.Tests.Worker;

public sealed class TaskDispatcherTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static JsonElement Demo(int steps, int stepMs, bool fail = false) =>
        JsonSerializer.SerializeToElement(new { steps, step_ms = stepMs, fail });

    [Fact]
    public async Task Dispatcher_200TasksFrom10UsersOnTwoWorkers_LimitsHoldAndEachRunsOnce()
    {
        await using var cluster = await WorkerCluster.CreateAsync(redis, new Dictionary<string, string>
        {
            ["Queue:PerUserConcurrency"] = "2",
            ["Queue:GlobalConcurrency"] = "6",
            // Long enough that no lease expires on a loaded machine: this test is about limits, not recovery.
            ["Queue:VisibilityTimeout"] = "00:00:30",
        });
        await Task.WhenAll(cluster.StartWorkerAsync(), cluster.StartWorkerAsync());
        var frames = await cluster.RecordTaskFramesAsync();
        var batchFrames = await cluster.RecordBatchFramesAsync();

        // Every start and end as the frames tell it, in publish order; replayed once the owners are known.
        var owner = new ConcurrentDictionary<string, string>();
        var events = new ConcurrentQueue<(string TaskId, bool Start)>();
        frames.Received += (taskId, type, data) =>
        {
            if (type == "progress" && data.GetProperty("status").GetString() == "running")
            {
                events.Enqueue((taskId, true));
            }
            else if (type is "completed" or "error"
                || (type == "progress" && data.GetProperty("status").GetString() == "queued"))
            {
                // A requeued task (lease lost) is no longer running either.
                events.Enqueue((taskId, false));
            }
        };

        // The queue's own bookkeeping, sampled while the tasks run.
        using var stopSampling = new CancellationTokenSource();
        int sampledGlobal = 0, sampledUser = 0;
        var db = cluster.Redis.GetDatabase();
        var sampler = Task.Run(async () =>
        {
            while (!stopSampling.IsCancellationRequested)
            {
                var running = await db.SortedSetLengthAsync(cluster.Options.KeyPrefix + ":running");
                var perUser = await db.HashGetAllAsync(cluster.Options.KeyPrefix + ":urun");
                sampledGlobal = Math.Max(sampledGlobal, (int)running);
                sampledUser = Math.Max(sampledUser, perUser.Select(e => (int)e.Value).DefaultIfEmpty(0).Max());
                await Task.Delay(3);
            }
        }, Ct);

        var taskIds = new List<string>();
        var batches = new List<string>();
        for (var u = 0; u < 10; u++)
        {
            var user = $"user{u}-{Guid.NewGuid():N}";
            var batch = await cluster.Queue.EnqueueBatchAsync(user, "demo", [.. Enumerable.Range(0, 10).Select(_ => (JsonElement?)Demo(2, 10))], Ct);
            batches.Add(batch.Id);
            foreach (var id in batch.TaskIds)
            {
                owner[id] = user;
                taskIds.Add(id);
            }
            for (var i = 0; i < 10; i++)
            {
                var task = await cluster.Queue.EnqueueAsync(user, "demo", Demo(2, 10), Ct);
                owner[task.Id] = user;
                taskIds.Add(task.Id);
            }
        }

        await WorkerCluster.WaitUntilAsync(async () => (await cluster.Queue.GetStatsAsync(Ct)).Completed == 200, TimeSpan.FromSeconds(90), "200 tasks completed");
        await WorkerCluster.WaitUntilAsync(() => Task.FromResult(taskIds.All(id => frames.TerminalCount(id) == 1)), TimeSpan.FromSeconds(10), "a terminal frame per task");
        await WorkerCluster.WaitUntilAsync(() => Task.FromResult(batches.All(b => batchFrames.For(b).Any(f => f.Type == "finished"))), TimeSpan.FromSeconds(10), "a finished frame per batch");
        await stopSampling.CancelAsync();
        await sampler;

        var inFlight = new HashSet<string>();
        int maxGlobal = 0, maxUser = 0;
        foreach (var (taskId, start) in events)
        {
            if (start)
            {
                inFlight.Add(taskId);
            }
            else
            {
                inFlight.Remove(taskId);
            }
            maxGlobal = Math.Max(maxGlobal, inFlight.Count);
            maxUser = Math.Max(maxUser, inFlight.GroupBy(id => owner[id]).Select(g => g.Count()).DefaultIfEmpty(0).Max());
        }
        Assert.InRange(sampledUser, 1, 2);
        Assert.InRange(sampledGlobal, 2, 6);
        Assert.InRange(maxUser, 1, 2);
        Assert.InRange(maxGlobal, 2, 6);
        Assert.Equal(new QueueStats(0, 0, 200, 0, 0), await cluster.Queue.GetStatsAsync(Ct));
        foreach (var id in taskIds)
        {
            var record = (await cluster.Queue.GetAsync(id, Ct))!;
            Assert.Equal(TaskState.Completed, record.Status);
            Assert.Equal(1, record.Attempts);
            var taskFrames = frames.For(id);
            Assert.Equal(1, taskFrames.Count(f => f.Type == "completed"));
            Assert.Equal(1, taskFrames.Count(f => f.Type == "progress" && f.Data.GetProperty("message").GetString() == "started"));
        }
        foreach (var batchId in batches)
        {
            var batch = (await cluster.Queue.GetBatchAsync(batchId, Ct))!;
            Assert.Equal(new BatchCounts(10, 0, 0, 10, 0, 0), batch.Counts);
            Assert.NotNull(batch.FinishedAt);
            var published = batchFrames.For(batchId);
            var finished = Assert.Single(published, f => f.Type == "finished").Data;
            Assert.Equal(10, finished.GetProperty("completed").GetInt32());
            Assert.Equal(100, finished.GetProperty("progress").GetDouble());
            Assert.All(published.Where(f => f.Type == "progress"), f => Assert.Equal(10,
                f.Data.GetProperty("queued").GetInt32() + f.Data.GetProperty("running").GetInt32() + f.Data.GetProperty("completed").GetInt32()
                + f.Data.GetProperty("failed").GetInt32() + f.Data.GetProperty("cancelled").GetInt32()));
        }
    }

    [Fact]
    public async Task Dispatcher_DemoTask_ProgressMonotonicEndsWithCompletedAndSnapshotServesLateSubscriber()
    {
        await using var cluster = await WorkerCluster.CreateAsync(redis);
        var frames = await cluster.RecordTaskFramesAsync();
        await cluster.StartWorkerAsync();
        var user = "alice-" + Guid.NewGuid().ToString("N");

        var task = await cluster.Queue.EnqueueAsync(user, "demo", Demo(3, 100), Ct);
        await WorkerCluster.WaitUntilAsync(() => Task.FromResult(frames.For(task.Id).Any(f => f.Type == "progress" && f.Data.GetProperty("progress").GetDouble() > 0)),
            TimeSpan.FromSeconds(20), "first progress above 0");
        var seen = frames.For(task.Id).Max(f => f.Data.TryGetProperty("progress", out var p) ? p.GetDouble() : 0);
        var late = await cluster.Progress.GetTaskAsync(task.Id, Ct);
        await WorkerCluster.WaitUntilAsync(() => Task.FromResult(frames.TerminalCount(task.Id) == 1), TimeSpan.FromSeconds(20), "terminal frame");

        Assert.NotNull(late);
        Assert.Equal(TaskState.Running, late.Status);
        Assert.True(late.Progress >= seen, $"snapshot {late.Progress} behind the frames ({seen})");
        var all = frames.For(task.Id);
        Assert.Equal("completed", all[^1].Type);
        var progress = all.Where(f => f.Type == "progress").Select(f => f.Data.GetProperty("progress").GetDouble()).ToList();
        Assert.Equal(progress.Order().ToList(), progress);
        Assert.Equal(3, all.Where(f => f.Type == "progress").Max(f => f.Data.GetProperty("total_steps").GetInt32()));
        Assert.Equal(100, progress[^1]);
        var final = (await cluster.Progress.GetTaskAsync(task.Id, Ct))!;
        Assert.Equal(TaskState.Completed, final.Status);
        Assert.Equal(100, final.Progress);

        // The owner's inbox has exactly one completion notice.
        var store = cluster.OpenStore();
        await WorkerCluster.WaitUntilAsync(async () => (await store.ListAsync(user, new() { Type = "task_completed" }, Ct)).Items.Count > 0, TimeSpan.FromSeconds(10), "completion notification");
        var inbox = await store.ListAsync(user, new(), Ct);
        var notice = Assert.Single(inbox.Items);
        Assert.Equal(task.Id, notice.Metadata!.Value.GetProperty("task_id").GetString());
    }

    [Fact]
    public async Task Dispatcher_FailingHandler_RetriesUpToMaxAttemptsThenFailsWithOwnerAndAdminsNotified()
    {
        await using var cluster = await WorkerCluster.CreateAsync(redis, new Dictionary<string, string> { ["Queue:MaxAttempts"] = "3" });
        var frames = await cluster.RecordTaskFramesAsync();
        await cluster.StartWorkerAsync();
        var user = "bob-" + Guid.NewGuid().ToString("N");

        var task = await cluster.Queue.EnqueueAsync(user, "demo", Demo(2, 10, fail: true), Ct);
        await WorkerCluster.WaitUntilAsync(() => Task.FromResult(frames.TerminalCount(task.Id) == 1), TimeSpan.FromSeconds(30), "terminal frame");

        var record = (await cluster.Queue.GetAsync(task.Id, Ct))!;
        Assert.Equal(TaskState.Failed, record.Status);
        Assert.Equal(3, record.Attempts);
        Assert.Contains("demo failure", record.Error, StringComparison.Ordinal);
        var all = frames.For(task.Id);
        Assert.Equal(2, all.Count(f => f.Type == "progress" && f.Data.GetProperty("status").GetString() == "queued" && f.Data.GetProperty("message").GetString()!.Contains("retry", StringComparison.Ordinal)));
        Assert.Equal("error", all[^1].Type);
        Assert.Equal("failed", all[^1].Data.GetProperty("status").GetString());

        var store = cluster.OpenStore();
        await WorkerCluster.WaitUntilAsync(async () => (await store.ListAsync(user, new(), Ct)).Items.Count > 0, TimeSpan.FromSeconds(10), "failure notification");
        var notice = Assert.Single((await store.ListAsync(user, new(), Ct)).Items);
        Assert.Equal("task_failed", notice.Type);
        Assert.Equal(Core.Notifications.NotificationSeverity.Error, notice.Severity);

        await WorkerCluster.WaitUntilAsync(async () =>
        {
            var history = await cluster.Bus.ReadHistoryAsync(Core.Messaging.BusTopic.Channel("admin"), "0", 1000, Ct);
            return history.Entries.Any(e => FrameRecorder.Text(e.Frame.ToArray()).Contains(task.Id, StringComparison.Ordinal));
        }, TimeSpan.FromSeconds(10), "admin system_message");
        var adminFrame = (await cluster.Bus.ReadHistoryAsync(Core.Messaging.BusTopic.Channel("admin"), "0", 1000, Ct)).Entries
            .Select(e => JsonDocument.Parse(e.Frame).RootElement)
            .Single(f => f.GetProperty("data").GetProperty("payload").GetProperty("task_id").GetString() == task.Id);
        Assert.Equal("system_message", adminFrame.GetProperty("data").GetProperty("payload").GetProperty("type").GetString());
        Assert.Equal("error", adminFrame.GetProperty("data").GetProperty("payload").GetProperty("level").GetString());
    }

    [Fact]
    public async Task Dispatcher_CancelQueuedAndRunning_QueuedNeverRunsRunningStopsPromptly()
    {
        await using var cluster = await WorkerCluster.CreateAsync(redis, new Dictionary<string, string> { ["Queue:GlobalConcurrency"] = "1" });
        var frames = await cluster.RecordTaskFramesAsync();
        await cluster.StartWorkerAsync();
        var user = "carol-" + Guid.NewGuid().ToString("N");

        var running = await cluster.Queue.EnqueueAsync(user, "demo", Demo(5, 2_000), Ct);
        var queued = await cluster.Queue.EnqueueAsync(user, "demo", Demo(1, 10), Ct);
        await WorkerCluster.WaitUntilAsync(() => Task.FromResult(frames.For(running.Id).Any(f => f.Type == "progress" && f.Data.GetProperty("status").GetString() == "running")),
            TimeSpan.FromSeconds(20), "first task running");

        Assert.Equal(TransitionKind.Finished, (await cluster.Queue.CancelAsync(queued.Id, Ct)).Kind);
        var cancelAt = DateTime.UtcNow;
        Assert.Equal(TransitionKind.CancelRequested, (await cluster.Queue.CancelAsync(running.Id, Ct)).Kind);
        await WorkerCluster.WaitUntilAsync(() => Task.FromResult(frames.TerminalCount(running.Id) == 1), TimeSpan.FromSeconds(10), "running task stopped");

        Assert.True(DateTime.UtcNow - cancelAt < TimeSpan.FromSeconds(5), "the handler did not observe the cancellation promptly");
        Assert.Equal(TaskState.Cancelled, (await cluster.Queue.GetAsync(running.Id, Ct))!.Status);
        Assert.Equal("cancelled", frames.For(running.Id)[^1].Data.GetProperty("status").GetString());
        var queuedRecord = (await cluster.Queue.GetAsync(queued.Id, Ct))!;
        Assert.Equal(TaskState.Cancelled, queuedRecord.Status);
        Assert.Equal(0, queuedRecord.Attempts);
        Assert.Null(queuedRecord.StartedAt);
        Assert.DoesNotContain(frames.For(queued.Id), f => f.Type == "progress" && f.Data.GetProperty("status").GetString() == "running");
        Assert.Equal(new QueueStats(0, 0, 0, 0, 2), await cluster.Queue.GetStatsAsync(Ct));
    }

    [Fact]
    public async Task Dispatcher_DemoKindsOutsideDevelopment_TaskFailsWithoutRunning()
    {
        await using var cluster = await WorkerCluster.CreateAsync(redis, new Dictionary<string, string> { ["ASPNETCORE_ENVIRONMENT"] = "Production" });
        var frames = await cluster.RecordTaskFramesAsync();
        await cluster.StartWorkerAsync();

        // Queued behind the Api's back (the Api refuses the kind there too).
        var task = await cluster.Queue.EnqueueAsync("lea-" + Guid.NewGuid().ToString("N"), "demo", Demo(1, 10), Ct);
        await WorkerCluster.WaitUntilAsync(() => Task.FromResult(frames.TerminalCount(task.Id) == 1), TimeSpan.FromSeconds(30), "terminal frame");

        var record = (await cluster.Queue.GetAsync(task.Id, Ct))!;
        Assert.Equal(TaskState.Failed, record.Status);
        Assert.Contains("no handler for kind 'demo'", record.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(frames.For(task.Id), f => f.Type == "progress" && f.Data.GetProperty("total_steps").GetInt32() > 0);
    }
}
