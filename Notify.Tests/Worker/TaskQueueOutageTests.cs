using System.Text.Json;
using Notify.Core.Tasks;
using Notify.Tests.Infrastructure;

namespace Notify.Tests.Worker;

/// <summary>
/// Redis away for a few seconds while a task runs (a restart, a Sentinel failover): the Worker retries its
/// progress reports and its ack while the lease holds, so the task completes in its first attempt instead
/// of failing the handler or running again after its lease expired.
/// </summary>
public sealed class TaskQueueOutageTests : IAsyncLifetime
{
    private readonly RedisServer _redis = RedisServer.Durable();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => _redis.InitializeAsync();

    public ValueTask DisposeAsync() => _redis.DisposeAsync();

    [Fact]
    public async Task Dispatcher_RedisDownForSecondsMidTask_TaskCompletesInItsFirstAttempt()
    {
        await using var cluster = await WorkerCluster.CreateAsync(_redis, new Dictionary<string, string> { ["Queue:VisibilityTimeout"] = "00:00:15" });
        var frames = await cluster.RecordTaskFramesAsync();
        var worker = await cluster.StartWorkerAsync();
        var demo = JsonSerializer.SerializeToElement(new { steps = 20, step_ms = 300 });
        var task = await cluster.Queue.EnqueueAsync("outage-" + Guid.NewGuid().ToString("N"), "demo", demo, Ct);
        await WorkerCluster.WaitUntilAsync(() => Task.FromResult(frames.For(task.Id).Any(f => f.Type == "progress" && f.Data.GetProperty("step").GetInt32() >= 1)),
            TimeSpan.FromSeconds(30), "task at step 1");

        // The outage spans the rest of the run: its progress reports and its ack meet a dead Redis.
        var killedAt = DateTimeOffset.UtcNow;
        await _redis.KillAsync();
        await Task.Delay(TimeSpan.FromSeconds(3), Ct);
        await _redis.RestartAsync();
        var backAt = DateTimeOffset.UtcNow;

        TaskRecord? record = null;
        await WorkerCluster.WaitUntilAsync(async () =>
        {
            try
            {
                record = await cluster.Queue.GetAsync(task.Id, Ct);
                return record is { Status: TaskState.Completed or TaskState.Failed or TaskState.Cancelled };
            }
            catch (TaskQueueUnavailableException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(60), "task finished");
        Assert.True(record!.Status == TaskState.Completed, $"{record.Status} {record.Error}\n{worker.RecentLog}");
        Assert.Equal(1, record.Attempts);
        Assert.Equal(1, record.Result!.Value.GetProperty("attempt").GetInt32());
        // The one attempt spanned the outage: it started before Redis died and finished after it was back.
        Assert.True(record.StartedAt < killedAt && record.FinishedAt > backAt, $"started {record.StartedAt:O}, finished {record.FinishedAt:O}; Redis down {killedAt:O} to {backAt:O}");
    }
}
