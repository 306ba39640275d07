using System.Text.Json;

namespace Notify.Core.Tasks;

/// <summary>
/// The task queue (seed 001). FIFO per enqueue order; a dequeued task is invisible to other workers
/// until its visibility timeout passes, after which recovery puts it back (up to a max attempts).
/// Every state change is atomic in the backing store. The Worker helper of issue 5 owns this port and
/// its Redis adapter; members beyond these may be added there.
/// </summary>
public interface ITaskQueue
{
    /// <summary>Queues one task for <paramref name="userId"/>.</summary>
    Task<TaskRecord> EnqueueAsync(string userId, string kind, JsonElement? parameters, CancellationToken cancellationToken);

    /// <summary>The task, or null when unknown.</summary>
    Task<TaskRecord?> GetAsync(string taskId, CancellationToken cancellationToken);
}

/// <summary>
/// Current progress of tasks and batches: a snapshot with a TTL (so a late subscriber sees the
/// current state at once) and the live updates on the task's bus topic.
/// </summary>
public interface IProgressStore
{
    /// <summary>The latest snapshot of a task, or null when none is kept.</summary>
    Task<TaskProgress?> GetTaskAsync(string taskId, CancellationToken cancellationToken);
}
