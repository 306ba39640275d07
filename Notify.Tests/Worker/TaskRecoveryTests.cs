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
        Assert.Equal(1, record.Attempts);
        var all = frames.For(task.Id);
        var progress = all.Where(f => f.Type == "progress").Select(f => f.Data.GetProperty("progress").GetDouble()).ToList();
        Assert.True(progress.SequenceEqual(progress.Order()), "progress went down:\n" + FrameRecorder.Describe(all));
        var handedBack = all.ToList().FindIndex(f => f.Type == "progress" && f.Data.GetProperty("message").GetString()!.Contains("worker stopping", StringComparison.Ordinal));
        var resumed = all.Skip(handedBack + 1).First(f => f.Type == "progress" && f.Data.GetProperty("status").GetString() == "running" && f.Data.GetProperty("total_steps").GetInt32() > 0);
        Assert.True(resumed.Data.GetProperty("step").GetInt32() >= 2, FrameRecorder.Describe(all));
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
