using System.Text.Json;
using Microsoft.Extensions.Options;
using Notify.Core.Json;
using StackExchange.Redis;

namespace Notify.Core.Tasks;

/// <summary>
/// <see cref="IProgressStore"/> on the keys <see cref="RedisTaskQueue"/> writes: the task snapshot is
/// a JSON <see cref="TaskProgress"/> string with a TTL (<see cref="QueueOptions.SnapshotTtl"/>),
/// written in the same atomic step that publishes the frame; batch progress is read from the batch's
/// counters.
/// </summary>
public sealed class RedisProgressStore(IConnectionMultiplexer redis, IOptionsMonitor<QueueOptions> options, TimeProvider time) : IProgressStore
{
    /// <summary>The Redis key of a task's progress snapshot.</summary>
    public static string SnapshotKey(string prefix, string taskId) => $"{prefix}:progress:{taskId}";

    public async Task<TaskProgress?> GetTaskAsync(string taskId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!TaskIds.IsWellFormed(taskId))
        {
            return null;
        }
        var value = await redis.GetDatabase().StringGetAsync(SnapshotKey(options.CurrentValue.KeyPrefix, taskId));
        return value.IsNullOrEmpty ? null : JsonSerializer.Deserialize<TaskProgress>((byte[])value!, NotifyJson.Options);
    }

    public async Task<BatchProgress?> GetBatchAsync(string batchId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!TaskIds.IsWellFormed(batchId))
        {
            return null;
        }
        var values = await redis.GetDatabase().HashGetAsync($"{options.CurrentValue.KeyPrefix}:batch:{batchId}",
            ["total", "queued", "running", "completed", "failed", "cancelled"]);
        if (values[0].IsNull)
        {
            return null;
        }
        var counts = new BatchCounts((int)values[0], (int)values[1], (int)values[2], (int)values[3], (int)values[4], (int)values[5]);
        return BatchProgress.From(batchId, counts, time.GetUtcNow());
    }
}
