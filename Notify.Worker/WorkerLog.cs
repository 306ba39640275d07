namespace Notify.Worker;

/// <summary>The Worker's log messages.</summary>
internal static partial class WorkerLog
{
    [LoggerMessage(1, LogLevel.Information, "Task dispatcher {WorkerId} started: {Slots} local slots, kinds {Kinds}")]
    public static partial void DispatcherStarted(ILogger logger, string workerId, int slots, string kinds);

    [LoggerMessage(2, LogLevel.Warning, "Queue unavailable; retrying in {Delay}")]
    public static partial void QueueUnavailable(ILogger logger, Exception exception, TimeSpan delay);

    [LoggerMessage(3, LogLevel.Debug, "Task {TaskId} ({Kind}) attempt {Attempt} started")]
    public static partial void TaskStarted(ILogger logger, string taskId, string kind, int attempt);

    [LoggerMessage(4, LogLevel.Debug, "Task {TaskId} ({Kind}) ended {Status} after attempt {Attempt}")]
    public static partial void TaskFinished(ILogger logger, string taskId, string kind, string status, int attempt);

    [LoggerMessage(5, LogLevel.Warning, "Task {TaskId} ({Kind}) attempt {Attempt} failed; queued for a retry")]
    public static partial void TaskRetry(ILogger logger, Exception exception, string taskId, string kind, int attempt);

    [LoggerMessage(6, LogLevel.Warning, "Task {TaskId} lost its lease (expired and recovered elsewhere); its result is dropped")]
    public static partial void LeaseLost(ILogger logger, string taskId);

    [LoggerMessage(7, LogLevel.Information, "Recovery: {Requeued} expired tasks requeued, {Failed} failed")]
    public static partial void Recovered(ILogger logger, int requeued, int failed);

    [LoggerMessage(8, LogLevel.Information, "Cleanup deleted {Deleted} notifications (older than {Days} days or beyond the newest {Keep} per user)")]
    public static partial void CleanedUp(ILogger logger, long deleted, int days, int keep);

    [LoggerMessage(9, LogLevel.Warning, "Could not notify about task {TaskId}")]
    public static partial void NotifyFailed(ILogger logger, Exception exception, string taskId);

    [LoggerMessage(10, LogLevel.Warning, "Recurring jobs not registered yet (storage unavailable); retrying in {Delay}")]
    public static partial void RecurringJobsDeferred(ILogger logger, Exception exception, TimeSpan delay);

    [LoggerMessage(11, LogLevel.Information, "Shutdown: {Count} running tasks given back to the queue")]
    public static partial void Released(ILogger logger, int count);

    [LoggerMessage(40, LogLevel.Warning, "Task {TaskId}: the queue is unreachable; retrying in {Delay} while the lease holds")]
    public static partial void QueueRetry(ILogger logger, Exception exception, string taskId, TimeSpan delay);

    [LoggerMessage(12, LogLevel.Error, "Task {TaskId}: ack failed")]
    public static partial void AckFailed(ILogger logger, Exception exception, string taskId);

    [LoggerMessage(13, LogLevel.Warning, "Task {TaskId}: its lease could not be renewed before {ProvenUntil}; the handler was stopped so the task never runs twice at once")]
    public static partial void LeaseUnproven(ILogger logger, string taskId, DateTimeOffset provenUntil);

    [LoggerMessage(14, LogLevel.Warning, "Lease renewal of {Count} running tasks failed; retrying in {Delay}")]
    public static partial void RenewFailed(ILogger logger, Exception exception, int count, TimeSpan delay);

    [LoggerMessage(15, LogLevel.Warning, "{Count} recurring jobs were missing from Hangfire's storage (Redis flushed or restarted without persistence); registered again")]
    public static partial void RecurringJobsRestored(ILogger logger, int count);

    [LoggerMessage(16, LogLevel.Warning, "Expired-lease sweep failed; trying again at the next one")]
    public static partial void SweepFailed(ILogger logger, Exception exception);

    [LoggerMessage(17, LogLevel.Debug, "Snoozed notification {NotificationId} of user {UserId} woken and pushed")]
    public static partial void SnoozeWoken(ILogger logger, string notificationId, string userId);

    [LoggerMessage(18, LogLevel.Warning, "Snoozed notification {NotificationId} of user {UserId} woken, but its live push failed; it is back in the inbox")]
    public static partial void SnoozePublishFailed(ILogger logger, Exception exception, string notificationId, string userId);

    [LoggerMessage(19, LogLevel.Warning, "Waking snoozed notifications failed; trying again at the next poll")]
    public static partial void SnoozeWakeFailed(ILogger logger, Exception exception);
}
