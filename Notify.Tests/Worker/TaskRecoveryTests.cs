using System.Diagnostics;
using System.Text.Json;
using Notify.Core.Tasks;
using Notify.Tests.Infrastructure;

namespace Notify.Tests.Worker;

public sealed class TaskRecoveryTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static JsonElement Demo(int steps, int stepMs) => JsonSerializer.SerializeToElement(new { steps, step_ms = stepMs });

    [Fact]
    public async Task Dispatcher_WorkerKilledMidTask_AnotherWorkerResumesAfterVisibilityTimeout()
    {
        await using var cluster = await WorkerCluster.CreateAsync(redis);
        var frames = await cluster.RecordTaskFramesAsync();
        var first = await cluster.StartWorkerAsync();

        var task = await cluster.Queue.EnqueueAsync("dave-" + Guid.NewGuid().ToString("N"), "demo", Demo(4, 250), Ct);
        await WaitForStepAsync(frames, task.Id, 2);
        await first.KillAsync();
        await cluster.StartWorkerAsync();
        await WorkerCluster.WaitUntilAsync(() => Task.FromResult(frames.TerminalCount(task.Id) == 1), TimeSpan.FromSeconds(30), "task finished by the second worker");

        AssertResumedOnce(frames, task.Id);
        var record = (await cluster.Queue.GetAsync(task.Id, Ct))!;
        Assert.Equal(TaskState.Completed, record.Status);
        Assert.Equal(2, record.Attempts);
        Assert.Equal(2, record.Result!.Value.GetProperty("attempt").GetInt32());
    }

    [Fact]
    public async Task Dispatcher_FrozenWorkerComesBack_ItsStaleLeaseIsRefusedAndTaskRunsOnce()
    {
        await using var cluster = await WorkerCluster.CreateAsync(redis);
        var frames = await cluster.RecordTaskFramesAsync();
        var first = await cluster.StartWorkerAsync();

        var task = await cluster.Queue.EnqueueAsync("erin-" + Guid.NewGuid().ToString("N"), "demo", Demo(4, 250), Ct);
        await WaitForStepAsync(frames, task.Id, 2);
        Signal(first.Pid, "STOP");
        try
        {
            await cluster.StartWorkerAsync();
            await WorkerCluster.WaitUntilAsync(() => Task.FromResult(frames.For(task.Id).Any(f => f.Type == "progress" && IsResumed(f.Data))),
                TimeSpan.FromSeconds(30), "second worker resumed the task");
        }
        finally
        {
            Signal(first.Pid, "CONT");
        }
        await WorkerCluster.WaitUntilAsync(() => Task.FromResult(frames.TerminalCount(task.Id) == 1), TimeSpan.FromSeconds(30), "task finished");
        // The thawed worker's in-flight reports reach Redis now; give them a moment to be refused.
        await first.WaitUntilAsync("/alive", TimeSpan.FromSeconds(10));

        AssertResumedOnce(frames, task.Id);
        Assert.Equal(1, frames.TerminalCount(task.Id));
        var record = (await cluster.Queue.GetAsync(task.Id, Ct))!;
        Assert.Equal(TaskState.Completed, record.Status);
        Assert.Equal(2, record.Attempts);
        Assert.Equal(new QueueStats(0, 0, 1, 0, 0), await cluster.Queue.GetStatsAsync(Ct));
    }

    [Fact]
    public async Task Dispatcher_WorkerStoppedGracefully_HandsRunningTaskBackWithoutCountingAnAttempt()
    {
        await using var cluster = await WorkerCluster.CreateAsync(redis);
        var frames = await cluster.RecordTaskFramesAsync();
        var first = await cluster.StartWorkerAsync();

        var task = await cluster.Queue.EnqueueAsync("fay-" + Guid.NewGuid().ToString("N"), "demo", Demo(4, 400), Ct);
        await WaitForStepAsync(frames, task.Id, 2);
        await first.StopAsync(TimeSpan.FromSeconds(20));
        Assert.Contains(frames.For(task.Id), f => f.Type == "progress" && f.Data.GetProperty("status").GetString() == "queued"
            && f.Data.GetProperty("message").GetString()!.Contains("worker stopping", StringComparison.Ordinal));
        await cluster.StartWorkerAsync();
        await WorkerCluster.WaitUntilAsync(() => Task.FromResult(frames.TerminalCount(task.Id) == 1), TimeSpan.FromSeconds(30), "task finished by the second worker");

        var record = (await cluster.Queue.GetAsync(task.Id, Ct))!;
        Assert.Equal(TaskState.Completed, record.Status);
        Assert.True(record.Attempts == 1, FrameRecorder.Describe(frames.For(task.Id)));
        var all = frames.For(task.Id);
        var progress = all.Where(f => f.Type == "progress").Select(f => f.Data.GetProperty("progress").GetDouble()).ToList();
        Assert.True(progress.SequenceEqual(progress.Order()), "progress went down:\n" + FrameRecorder.Describe(all));
        var handedBack = all.ToList().FindIndex(f => f.Type == "progress" && f.Data.GetProperty("message").GetString()!.Contains("worker stopping", StringComparison.Ordinal));
        var resumed = all.Skip(handedBack + 1).First(f => f.Type == "progress" && f.Data.GetProperty("status").GetString() == "running" && f.Data.GetProperty("total_steps").GetInt32() > 0);
        Assert.True(resumed.Data.GetProperty("step").GetInt32() >= 2, FrameRecorder.Describe(all));
    }

    [Fact]
    public async Task Fault_WorkerKilledMidTaskBesideAnother_ItsTasksResumeThereOnlyAfterTheirLeasesExpireAndEachRunsOnce()
    {
        await using var cluster = await WorkerCluster.CreateAsync(redis, new Dictionary<string, string>
        {
            // Long enough to tell "after the lease expired" from "at once" on a loaded machine.
            ["Queue:VisibilityTimeout"] = "00:00:03",
            ["Queue:PerUserConcurrency"] = "10",
            ["Queue:GlobalConcurrency"] = "20",
        });
        var frames = await cluster.RecordTaskFramesAsync();
        var workers = await Task.WhenAll(cluster.StartWorkerAsync(), cluster.StartWorkerAsync());

        var tasks = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            tasks.Add((await cluster.Queue.EnqueueAsync($"kim{i}-{Guid.NewGuid():N}", "demo", Demo(6, 300), Ct)).Id);
        }
        await WorkerCluster.WaitUntilAsync(() => Task.FromResult(tasks.All(id => frames.For(id).Any(f => f.Type == "progress" && f.Data.GetProperty("step").GetInt32() >= 1))),
            TimeSpan.FromSeconds(30), "every task running");

        // kill -9 the worker holding the first task, then read the leases it can no longer renew.
        var holder = (await cluster.Queue.GetAsync(tasks[0], Ct))!.WorkerId!;
        var victim = workers.Single(w => holder.Contains($":{w.Pid}:", StringComparison.Ordinal));
        await victim.KillAsync();
        var killedAt = DateTimeOffset.UtcNow;
        var orphaned = new Dictionary<string, DateTimeOffset>();
        foreach (var id in tasks)
        {
            var record = (await cluster.Queue.GetAsync(id, Ct))!;
            if (record.WorkerId == holder)
            {
                var deadline = (long)await cluster.Redis.GetDatabase().HashGetAsync($"{cluster.Options.KeyPrefix}:task:{id}", "deadline");
                orphaned[id] = DateTimeOffset.FromUnixTimeMilliseconds(deadline);
            }
        }
        Assert.NotEmpty(orphaned);

        await WorkerCluster.WaitUntilAsync(() => Task.FromResult(tasks.All(id => frames.TerminalCount(id) == 1)), TimeSpan.FromSeconds(90), "every task finished");

        foreach (var id in tasks)
        {
            var record = (await cluster.Queue.GetAsync(id, Ct))!;
            var all = frames.For(id);
            Assert.Equal(TaskState.Completed, record.Status);
            Assert.Equal(1, all.Count(f => f.Type == "completed"));
            if (!orphaned.TryGetValue(id, out var leaseEnd))
            {
                // The survivor's own tasks were never disturbed.
                Assert.Equal(1, record.Attempts);
                continue;
            }
            Assert.Equal(2, record.Attempts);
            var describe = FrameRecorder.Describe(all);
            var requeued = all.ToList().FindIndex(f => f.Type == "progress" && f.Data.GetProperty("message").GetString()!.Contains("worker lost", StringComparison.Ordinal));
            var resumed = all.ToList().FindIndex(f => f.Type == "progress" && IsResumed(f.Data));
            Assert.True(requeued > 0 && resumed > requeued, "no requeue, then resume:\n" + describe);
            // One new attempt: the dispatcher announces it once ("resumed (attempt 2)"); the demo handler adds its own
            // "resumed at step N" when the dead worker had finished a step, which depends on when the kill landed.
            Assert.Single(all, f => f.Type == "progress" && f.Data.GetProperty("message").GetString()!.StartsWith("resumed (attempt", StringComparison.Ordinal));
            // One holder at a time: after the requeue only the new attempt publishes, and progress never goes back.
            Assert.DoesNotContain(all.Skip(requeued + 1), f => f.Type == "progress" && f.Data.GetProperty("message").GetString() is "started" or "started (attempt 1)");
            var progress = all.Where(f => f.Type == "progress").Select(f => f.Data.GetProperty("progress").GetDouble()).ToList();
            Assert.True(progress.SequenceEqual(progress.Order()), "progress went down:\n" + describe);
            // Resumed only once the dead worker's lease had run out, never while it could still be running.
            var resumedAt = all[resumed].Data.GetProperty("timestamp").GetDateTimeOffset();
            Assert.True(resumedAt >= leaseEnd, $"{id} resumed at {resumedAt:O}, its lease ran until {leaseEnd:O}");
            // ...and soon after: every dispatcher sweeps expired leases each third of the visibility timeout,
            // so no lock the dead worker held in Hangfire (30 s to expire) holds recovery up.
            Assert.True(resumedAt - leaseEnd < TimeSpan.FromSeconds(10), $"{id} resumed {(resumedAt - leaseEnd).TotalSeconds:F1} s after its lease ended");
            TestContext.Current.TestOutputHelper?.WriteLine($"{id}: resumed {(resumedAt - killedAt).TotalSeconds:F2} s after the kill, {(resumedAt - leaseEnd).TotalSeconds:F2} s after its lease ended");
            Assert.True(leaseEnd > killedAt - TimeSpan.FromSeconds(1), $"{id}: lease {leaseEnd:O} was not being renewed before the kill at {killedAt:O}");
        }
        Assert.Equal(new QueueStats(0, 0, tasks.Count, 0, 0), await cluster.Queue.GetStatsAsync(Ct));
    }

    private static bool IsResumed(JsonElement data) =>
        data.GetProperty("message").GetString()!.StartsWith("resumed", StringComparison.Ordinal);

    private static async Task WaitForStepAsync(FrameRecorder frames, string taskId, int step) =>
        await WorkerCluster.WaitUntilAsync(() => Task.FromResult(frames.For(taskId).Any(f => f.Type == "progress" && f.Data.GetProperty("step").GetInt32() >= step)),
            TimeSpan.FromSeconds(20), $"task at step {step}");

    private static void AssertResumedOnce(FrameRecorder frames, string taskId)
    {
        var all = frames.For(taskId);
        var describe = FrameRecorder.Describe(all);
        var requeued = all.ToList().FindIndex(f => f.Type == "progress" && f.Data.GetProperty("status").GetString() == "queued"
            && f.Data.GetProperty("message").GetString()!.Contains("worker lost", StringComparison.Ordinal));
        Assert.True(requeued > 0, "no requeue frame:\n" + describe);
        var resumed = all.ToList().FindIndex(requeued, f => f.Type == "progress" && IsResumed(f.Data));
        Assert.True(resumed > requeued, "no resume after the requeue:\n" + describe);
        Assert.Equal("completed", all[^1].Type);
        var progress = all.Where(f => f.Type == "progress").Select(f => f.Data.GetProperty("progress").GetDouble()).ToList();
        Assert.True(progress.SequenceEqual(progress.Order()), "progress went down:\n" + describe);
        // The resumed attempt starts where the first one got to, not from the first step.
        Assert.True(all.Skip(resumed).First(f => f.Type == "progress").Data.GetProperty("step").GetInt32() >= 2, describe);
        // After the requeue only the new holder publishes: one running phase, no frames of the old attempt.
        Assert.DoesNotContain(all.Skip(requeued + 1), f => f.Type == "progress" && f.Data.GetProperty("message").GetString() == "started");
    }

    private static void Signal(int pid, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture) } })!;
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }
}
