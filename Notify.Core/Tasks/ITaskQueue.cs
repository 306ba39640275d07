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
/// <para>
/// Every failure of the backing store leaves an implementation as <see cref="TaskQueueUnavailableException"/> (the
/// adapter's own exception inside); callers never see a store-specific exception type. Argument errors
/// are <see cref="ArgumentException"/>, cancellation is <see cref="OperationCanceledException"/>.
/// </para>
/// </summary>
public interface ITaskQueue
{
    /// <summary>Queues one task for <paramref name="userId"/>.</summary>
    /// <exception cref="QueueFullException">The user's or the queue's cap on waiting tasks is reached.</exception>
    /// <exception cref="TaskQueueUnavailableException">The queue could not carry out the call; the task state is as the last completed call left it.</exception>
    Task<TaskRecord> EnqueueAsync(string userId, string kind, JsonElement? parameters, CancellationToken cancellationToken);

    /// <summary>Queues one task per item, in item order, as one batch; all or none are queued.</summary>
    /// <exception cref="QueueFullException">The user's or the queue's cap on waiting tasks is reached.</exception>
    /// <exception cref="TaskQueueUnavailableException">The queue could not carry out the call; the task state is as the last completed call left it.</exception>
    Task<BatchRecord> EnqueueBatchAsync(string userId, string kind, IReadOnlyList<JsonElement?> items, CancellationToken cancellationToken);

    /// <summary>The task, or null when unknown (or expired after it finished, or not a well-formed id: <see cref="TaskIds"/>).</summary>
    /// <exception cref="TaskQueueUnavailableException">The queue could not carry out the call; the task state is as the last completed call left it.</exception>
    Task<TaskRecord?> GetAsync(string taskId, CancellationToken cancellationToken);

    /// <summary>The batch with its counts, or null when unknown (or not a well-formed id).</summary>
    /// <exception cref="TaskQueueUnavailableException">The queue could not carry out the call; the task state is as the last completed call left it.</exception>
    Task<BatchRecord?> GetBatchAsync(string batchId, CancellationToken cancellationToken);

    /// <summary>
    /// Leases up to <paramref name="max"/> tasks to <paramref name="workerId"/>, oldest first, within
    /// <paramref name="limits"/>. Returns an empty list when nothing is eligible.
    /// </summary>
    /// <exception cref="TaskQueueUnavailableException">The queue could not carry out the call; the task state is as the last completed call left it.</exception>
    Task<IReadOnlyList<TaskLease>> DequeueAsync(string workerId, int max, QueueLimits limits, CancellationToken cancellationToken);

    /// <summary>Extends the leases by the visibility timeout; one status per lease, in order.</summary>
    /// <exception cref="TaskQueueUnavailableException">The queue could not carry out the call; the task state is as the last completed call left it.</exception>
    Task<IReadOnlyList<LeaseStatus>> RenewAsync(IReadOnlyList<TaskLease> leases, TimeSpan visibilityTimeout, CancellationToken cancellationToken);

    /// <summary>
    /// Stores and publishes a progress update of a running task (snapshot with TTL + <c>progress</c>
    /// frame) and extends its lease. Refused (<see cref="LeaseStatus.Lost"/>) for a stale lease;
    /// an update lower than the last published progress is not published.
    /// </summary>
    /// <exception cref="TaskQueueUnavailableException">The queue could not carry out the call; the task state is as the last completed call left it.</exception>
    Task<LeaseStatus> ReportProgressAsync(TaskLease lease, TaskProgress progress, TimeSpan visibilityTimeout, CancellationToken cancellationToken);

    /// <summary>
    /// Ends the attempt. <see cref="TaskOutcome.Failed"/> requeues the task (at the back) while it has
    /// attempts left and <paramref name="retryable"/>, otherwise it fails for good. A task whose cancel
    /// was requested ends <see cref="TaskState.Cancelled"/> unless it completed. Publishes the terminal
    /// frame (<c>completed</c>/<c>error</c>) or, on a retry, a <c>queued</c> progress frame.
    /// Returns <see cref="TransitionKind.None"/> when the lease is no longer held.
    /// </summary>
    /// <exception cref="TaskQueueUnavailableException">The queue could not carry out the call; the task state is as the last completed call left it.</exception>
    Task<TaskTransition> AckAsync(TaskLease lease, TaskOutcome outcome, string? error, JsonElement? result, bool retryable, CancellationToken cancellationToken);

    /// <summary>
    /// Gives a lease back without counting the attempt (graceful shutdown): the task returns to its
    /// original place in the queue.
    /// </summary>
    /// <exception cref="TaskQueueUnavailableException">The queue could not carry out the call; the task state is as the last completed call left it.</exception>
    Task<TaskTransition> ReleaseAsync(TaskLease lease, CancellationToken cancellationToken);

    /// <summary>
    /// Cancels a task: a queued one becomes <see cref="TaskState.Cancelled"/> at once; a running one
    /// gets a cancel flag that its worker observes (<see cref="TransitionKind.CancelRequested"/>);
    /// a final one is left as it is (<see cref="TransitionKind.None"/>).
    /// </summary>
    /// <exception cref="TaskQueueUnavailableException">The queue could not carry out the call; the task state is as the last completed call left it.</exception>
    Task<TaskTransition> CancelAsync(string taskId, CancellationToken cancellationToken);

    /// <summary>
    /// Puts running tasks whose lease expired back in the queue at their original place, or fails
    /// those that already had <see cref="QueueLimits.MaxAttempts"/> starts. Handles at most
    /// <paramref name="limit"/> tasks per call.
    /// </summary>
    /// <exception cref="TaskQueueUnavailableException">The queue could not carry out the call; the task state is as the last completed call left it.</exception>
    Task<IReadOnlyList<TaskTransition>> RecoverExpiredAsync(QueueLimits limits, int limit, CancellationToken cancellationToken);

    /// <summary>Queue-wide counts.</summary>
    /// <exception cref="TaskQueueUnavailableException">The queue could not carry out the call; the task state is as the last completed call left it.</exception>
    Task<QueueStats> GetStatsAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Subscribes to queue signals: <paramref name="onWork"/> when tasks were queued or a slot freed,
    /// <paramref name="onCancel"/> with a task id when a running task's cancel was requested.
    /// Handlers must not block. Dispose to unsubscribe.
    /// </summary>
    /// <exception cref="TaskQueueUnavailableException">The queue could not carry out the call; the task state is as the last completed call left it.</exception>
    Task<IAsyncDisposable> SubscribeAsync(Action onWork, Action<string> onCancel, CancellationToken cancellationToken);
}
