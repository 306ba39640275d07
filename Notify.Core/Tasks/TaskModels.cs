using System.Text.Json;

namespace Notify.Core.Tasks;

/// <summary>Lifecycle of a queued task.</summary>
public enum TaskState
{
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
}

/// <summary>A task as the queue keeps it.</summary>
public sealed record TaskRecord
{
    public required string Id { get; init; }
    public required string UserId { get; init; }
    public required string Kind { get; init; }
    public JsonElement? Params { get; init; }
    public TaskState Status { get; init; }
    public string? BatchId { get; init; }
    /// <summary>How many times a worker has started it (1 on the first run).</summary>
    public int Attempts { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    /// <summary>When a worker first started it.</summary>
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    /// <summary>Why it failed (or why the last attempt failed, while it waits for a retry).</summary>
    public string? Error { get; init; }
    /// <summary>What the handler returned, once completed.</summary>
    public JsonElement? Result { get; init; }
    /// <summary>A cancel was asked for while it ran; the handler's token is cancelled.</summary>
    public bool CancelRequested { get; init; }
    /// <summary>The worker that holds the current lease, while running.</summary>
    public string? WorkerId { get; init; }
}

/// <summary>A batch of tasks created by one call, with its aggregate counts.</summary>
public sealed record BatchRecord
{
    public required string Id { get; init; }
    public required string UserId { get; init; }
    public required string Kind { get; init; }
    public required IReadOnlyList<string> TaskIds { get; init; }
    public required BatchCounts Counts { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    /// <summary>When the last task of the batch reached a final state.</summary>
    public DateTimeOffset? FinishedAt { get; init; }
}

/// <summary>How many of a batch's tasks are in each state; the counts always add up to <see cref="Total"/>.</summary>
public readonly record struct BatchCounts(int Total, int Queued, int Running, int Completed, int Failed, int Cancelled)
{
    /// <summary>No task is queued or running any more.</summary>
    public bool IsFinished => Queued == 0 && Running == 0;

    /// <summary>0–100: tasks in a final state over the total.</summary>
    public double Progress => Total == 0 ? 100 : Math.Round(100.0 * (Completed + Failed + Cancelled) / Total, 2);
}

/// <summary>
/// A dequeued task held by one worker. <see cref="Token"/> identifies this attempt: progress, renewal
/// and ack are refused for any other token, so a worker whose lease expired cannot touch the task again.
/// </summary>
public sealed record TaskLease(TaskRecord Task, string Token, DateTimeOffset ExpiresAt)
{
    /// <summary>For a batch task: the batch's counts right after this dequeue.</summary>
    public BatchCounts? Batch { get; init; }

    /// <summary>
    /// The last progress published through this lease (kept by <see cref="ITaskQueue.ReportProgressAsync"/>),
    /// the base of the final snapshot at ack.
    /// </summary>
    public TaskProgress? LastProgress { get; set; }
}

/// <summary>Answer of a lease renewal or a progress report.</summary>
public enum LeaseStatus
{
    /// <summary>The lease is no longer this worker's (expired and recovered, or the task is final): stop.</summary>
    Lost,
    /// <summary>The lease holds.</summary>
    Held,
    /// <summary>The lease holds and a cancel was asked for: stop and ack <see cref="TaskOutcome.Cancelled"/>.</summary>
    CancelRequested,
}

/// <summary>How a run ended, as the worker reports it.</summary>
public enum TaskOutcome
{
    Completed,
    Failed,
    Cancelled,
}

/// <summary>What the queue did with a task on a state change (ack, cancel, recovery).</summary>
public enum TransitionKind
{
    /// <summary>Nothing changed: unknown task, lease lost, or already final.</summary>
    None,
    /// <summary>Back in the queue for another attempt.</summary>
    Requeued,
    /// <summary>Reached a final state (<see cref="TaskTransition.Status"/>).</summary>
    Finished,
    /// <summary>Running; a cancel flag was set for its handler to observe.</summary>
    CancelRequested,
}

/// <summary>The result of a state change: the task's new state and, for a batch task, the batch's counts after it.</summary>
public sealed record TaskTransition
{
    public required TransitionKind Kind { get; init; }
    public required string TaskId { get; init; }
    public string? UserId { get; init; }
    public string? TaskKind { get; init; }
    public TaskState Status { get; init; }
    public int Attempts { get; init; }
    public string? Error { get; init; }
    public string? BatchId { get; init; }
    public BatchCounts? Batch { get; init; }
    /// <summary>This change finished the batch (it happens exactly once per batch).</summary>
    public bool BatchFinished { get; init; }

    public static TaskTransition Nothing(string taskId) => new() { Kind = TransitionKind.None, TaskId = taskId };
}

/// <summary>Queue-wide counts (<c>GET /api/queue/stats</c>).</summary>
public sealed record QueueStats(long Queued, long Processing, long Completed, long Failed, long Cancelled);

/// <summary>The <c>progress</c> frame/event data of a task (PROTOCOL.md §4).</summary>
public sealed record TaskProgress
{
    public required string TaskId { get; init; }
    public TaskState Status { get; init; }
    public string? Message { get; init; }
    public int Step { get; init; }
    public int TotalSteps { get; init; }
    /// <summary>0–100.</summary>
    public double Progress { get; init; }
    public double ElapsedS { get; init; }
    public double? EtaS { get; init; }
    public required DateTimeOffset Timestamp { get; init; }
}

/// <summary>The <c>completed</c> frame/event data of a task: it is the last event of its stream.</summary>
public sealed record TaskCompletedEvent
{
    public required string TaskId { get; init; }
    public TaskState Status { get; init; } = TaskState.Completed;
    public JsonElement? Result { get; init; }
    public int Attempts { get; init; }
    public double ElapsedS { get; init; }
    public required DateTimeOffset Timestamp { get; init; }
}

/// <summary>
/// The <c>error</c> frame/event data of a task: the last event of its stream. <see cref="Status"/> is
/// <c>failed</c> (with the reason in <see cref="Error"/>) or <c>cancelled</c>.
/// </summary>
public sealed record TaskErrorEvent
{
    public required string TaskId { get; init; }
    public TaskState Status { get; init; } = TaskState.Failed;
    public required string Error { get; init; }
    public int Attempts { get; init; }
    public double ElapsedS { get; init; }
    public required DateTimeOffset Timestamp { get; init; }
}

/// <summary>The <c>progress</c> event data of a batch (PROTOCOL.md §5).</summary>
public sealed record BatchProgress
{
    public required string BatchId { get; init; }
    public int Total { get; init; }
    public int Completed { get; init; }
    public int Failed { get; init; }
    public int Cancelled { get; init; }
    public int Running { get; init; }
    public int Queued { get; init; }
    /// <summary>0–100: finished (completed, failed or cancelled) over total.</summary>
    public double Progress { get; init; }
    public required DateTimeOffset Timestamp { get; init; }

    /// <summary>The progress data of <paramref name="counts"/> at <paramref name="timestamp"/>.</summary>
    public static BatchProgress From(string batchId, BatchCounts counts, DateTimeOffset timestamp) => new()
    {
        BatchId = batchId,
        Total = counts.Total,
        Completed = counts.Completed,
        Failed = counts.Failed,
        Cancelled = counts.Cancelled,
        Running = counts.Running,
        Queued = counts.Queued,
        Progress = counts.Progress,
        Timestamp = timestamp,
    };
}
