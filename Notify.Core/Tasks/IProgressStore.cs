namespace Notify.Core.Tasks;

/// <summary>
/// Current progress of tasks and batches: a snapshot with a TTL (so a late subscriber sees the
/// current state at once) next to the live updates on the task's bus topic
/// (<see cref="Messaging.BusTopic.Task"/>). The snapshot of a finished task has a final
/// <see cref="TaskProgress.Status"/> (completed, failed, cancelled): no further frame will follow.
/// </summary>
public interface IProgressStore
{
    /// <summary>The latest snapshot of a task, or null when none is kept (unknown or expired).</summary>
    Task<TaskProgress?> GetTaskAsync(string taskId, CancellationToken cancellationToken);

    /// <summary>The current counts of a batch as its <c>progress</c> data, or null when unknown.</summary>
    Task<BatchProgress?> GetBatchAsync(string batchId, CancellationToken cancellationToken);
}
