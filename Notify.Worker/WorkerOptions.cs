using System.ComponentModel.DataAnnotations;

namespace Notify.Worker;

/// <summary>The Worker process's own settings, section <c>Worker</c> (queue limits are in <c>Queue</c>).</summary>
public sealed class WorkerOptions
{
    public const string SectionName = "Worker";

    /// <summary>Most tasks this process runs at once (its local slots; the queue's limits apply on top). Default 32.</summary>
    [Range(1, 10_000)]
    public int MaxParallelTasks { get; set; } = 32;

    /// <summary>Most tasks leased by one dequeue call. Default 32.</summary>
    [Range(1, 1_000)]
    public int DequeueBatchSize { get; set; } = 32;

    /// <summary>
    /// How long the dispatcher waits for a wake-up signal (a task queued, a slot freed) before it looks
    /// at the queue anyway; signals arrive over Redis pub/sub, this only covers a lost signal. Default 1 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Hangfire cron of the expired-task recovery job (6 fields: with seconds). Default every 15 s.</summary>
    [Required]
    public string RecoveryCron { get; set; } = "*/15 * * * * *";

    /// <summary>Most expired tasks one recovery run handles. Default 1,000.</summary>
    [Range(1, 100_000)]
    public int RecoveryBatchSize { get; set; } = 1_000;

    /// <summary>Hangfire cron of the notification cleanup job. Default daily at 03:00 UTC.</summary>
    [Required]
    public string CleanupCron { get; set; } = "0 3 * * *";

    /// <summary>Rows one cleanup statement deletes at most. Default 1,000.</summary>
    [Range(1, 100_000)]
    public int CleanupBatchSize { get; set; } = 1_000;

    /// <summary>
    /// How often the recurring jobs are registered again (idempotently), besides at start, on an options
    /// change and when the Redis connection is restored: Redis can lose them silently (a flush, a restart
    /// without persistence). Default 30 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan RecurringJobsInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often Hangfire looks for due recurring jobs. Default 1 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan SchedulePollingInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often due snoozes are looked for and pushed; a snooze comes back at most this late. Default 1 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan SnoozePollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Most snoozes one claim wakes (further batches follow at once). Default 100.</summary>
    [Range(1, 1_000)]
    public int SnoozeBatchSize { get; set; } = 100;

    /// <summary>Hangfire worker threads (they run the recurring jobs, not the queue's tasks). Default 2.</summary>
    [Range(1, 100)]
    public int HangfireWorkerCount { get; set; } = 2;

    /// <summary>At shutdown, how long running tasks may finish before their leases are given back to the queue. Default 10 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan ShutdownGrace { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Prefix of Hangfire's keys in Redis. Default <c>{notify:hangfire}:</c>: the braces are a Redis Cluster hash
    /// tag, which Hangfire's Redis storage needs on a cluster (its transactions span several keys).
    /// </summary>
    [Required]
    public string HangfirePrefix { get; set; } = "{notify:hangfire}:";
}
