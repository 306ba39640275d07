using System.Text.Json;

namespace Notify.Core.Tasks;

/// <summary>
/// The task queue (seed 001). Tasks are served FIFO by enqueue order among the users that are below
/// their concurrency limit: a user at <see cref="QueueLimits.PerUser"/> is skipped without holding up
/// anyone behind them, and nothing is dequeued while <see cref="QueueLimits.Global"/> tasks run.
/// A dequeued task is leased to one worker until its visibility timeout; the worker renews the lease
/// while it runs. A task whose lease expires (its worker died) goes back to the queue at its original
/// place through <see cref="RecoverExpiredAsync"/>, up to <see cref="QueueLimits.MaxAttempts"/>
/// starts, then fails. Every state change is one atomic step in the backing store, checked against
/// the lease token, so two workers never run the same task at once and a crash between dequeue and
/// ack never loses a task. Task state changes publish their protocol frames on the task's topic in
/// the same atomic step, so the stream's order is the state's order.
/// </summary>
public interface ITaskQueue
{
    /// <summary>Queues one task for <paramref name="userId"/>.</summary>
    /// <exception cref="QueueFullException">The user's or the queue's cap on waiting tasks is reached.</exception>
    Task<TaskRecord> EnqueueAsync(string userId, string kind, JsonElement? parameters, CancellationToken cancellationToken);

    /// <summary>Queues one task per item, in item order, as one batch; all or none are queued.</summary>
    /// <exception cref="QueueFullException">The user's or the queue's cap on waiting tasks is reached.</exception>
    Task<BatchRecord> EnqueueBatchAsync(string userId, string kind, IReadOnlyList<JsonElement?> items, CancellationToken cancellationToken);

    /// <summary>The task, or null when unknown (or expired after it finished, or not a well-formed id: <see cref="TaskIds"/>).</summary>
    Task<TaskRecord?> GetAsync(string taskId, CancellationToken cancellationToken);

    /// <summary>The batch with its counts, or null when unknown (or not a well-formed id).</summary>
    Task<BatchRecord?> GetBatchAsync(string batchId, CancellationToken cancellationToken);

    /// <summary>
    /// Leases up to <paramref name="max"/> tasks to <paramref name="workerId"/>, oldest first, within
    /// <paramref name="limits"/>. Returns an empty list when nothing is eligible.
    /// </summary>
    Task<IReadOnlyList<TaskLease>> DequeueAsync(string workerId, int max, QueueLimits limits, CancellationToken cancellationToken);

    /// <summary>Extends the leases by the visibility timeout; one status per lease, in order.</summary>
    Task<IReadOnlyList<LeaseStatus>> RenewAsync(IReadOnlyList<TaskLease> leases, TimeSpan visibilityTimeout, CancellationToken cancellationToken);

    /// <summary>
    /// Stores and publishes a progress update of a running task (snapshot with TTL + <c>progress</c>
    /// frame) and extends its lease. Refused (<see cref="LeaseStatus.Lost"/>) for a stale lease;
    /// an update lower than the last published progress is not published.
    /// </summary>
    Task<LeaseStatus> ReportProgressAsync(TaskLease lease, TaskProgress progress, TimeSpan visibilityTimeout, CancellationToken cancellationToken);

    /// <summary>
    /// Ends the attempt. <see cref="TaskOutcome.Failed"/> requeues the task (at the back) while it has
    /// attempts left and <paramref name="retryable"/>, otherwise it fails for good. A task whose cancel
    /// was requested ends <see cref="TaskState.Cancelled"/> unless it completed. Publishes the terminal
    /// frame (<c>completed</c>/<c>error</c>) or, on a retry, a <c>queued</c> progress frame.
    /// Returns <see cref="TransitionKind.None"/> when the lease is no longer held.
    /// </summary>
    Task<TaskTransition> AckAsync(TaskLease lease, TaskOutcome outcome, string? error, JsonElement? result, bool retryable, CancellationToken cancellationToken);

    /// <summary>
    /// Gives a lease back without counting the attempt (graceful shutdown): the task returns to its
    /// original place in the queue.
    /// </summary>
    Task<TaskTransition> ReleaseAsync(TaskLease lease, CancellationToken cancellationToken);

    /// <summary>
    /// Cancels a task: a queued one becomes <see cref="TaskState.Cancelled"/> at once; a running one
    /// gets a cancel flag that its worker observes (<see cref="TransitionKind.CancelRequested"/>);
    /// a final one is left as it is (<see cref="TransitionKind.None"/>).
    /// </summary>
    Task<TaskTransition> CancelAsync(string taskId, CancellationToken cancellationToken);

    /// <summary>
    /// Puts running tasks whose lease expired back in the queue at their original place, or fails
    /// those that already had <see cref="QueueLimits.MaxAttempts"/> starts. Handles at most
    /// <paramref name="limit"/> tasks per call.
    /// </summary>
    Task<IReadOnlyList<TaskTransition>> RecoverExpiredAsync(QueueLimits limits, int limit, CancellationToken cancellationToken);

    /// <summary>Queue-wide counts.</summary>
    Task<QueueStats> GetStatsAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Subscribes to queue signals: <paramref name="onWork"/> when tasks were queued or a slot freed,
    /// <paramref name="onCancel"/> with a task id when a running task's cancel was requested.
    /// Handlers must not block. Dispose to unsubscribe.
    /// </summary>
    Task<IAsyncDisposable> SubscribeAsync(Action onWork, Action<string> onCancel, CancellationToken cancellationToken);
}

/// <summary>The limits one dequeue or recovery applies (from <see cref="QueueOptions"/>, adjustable at run time).</summary>
public readonly record struct QueueLimits(int PerUser, int Global, TimeSpan VisibilityTimeout, int MaxAttempts);

/// <summary>The queue refused new tasks because a cap on waiting tasks is reached.</summary>
public sealed class QueueFullException : Exception
{
    public QueueFullException()
        : base("The queue is full.")
    {
    }

    public QueueFullException(string message)
        : base(message)
    {
    }

    public QueueFullException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The caller's own cap (<see cref="QueueOptions.MaxQueuedPerUser"/>) was hit, not the queue's total.</summary>
    public bool IsUserCap { get; init; }
}
