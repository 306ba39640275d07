using System.ComponentModel.DataAnnotations;

namespace Notify.Core.Tasks;

/// <summary>The task queue's limits, section <c>Queue</c>; read by the Api (enqueue, stats) and the Worker (dequeue, recovery).</summary>
public sealed class QueueOptions
{
    public const string SectionName = "Queue";

    /// <summary>
    /// Most tasks of one user running at once. Default 3. Also a runtime setting
    /// (<c>Queue:PerUserConcurrency</c>): a value stored through <c>PUT /api/admin/settings</c> wins.
    /// </summary>
    [Range(1, 1_000)]
    public int PerUserConcurrency { get; set; } = 3;

    /// <summary>
    /// Most tasks running at once over all workers. Default 20. Also a runtime setting
    /// (<c>Queue:GlobalConcurrency</c>): a value stored through <c>PUT /api/admin/settings</c> wins.
    /// </summary>
    [Range(1, 10_000)]
    public int GlobalConcurrency { get; set; } = 20;

    /// <summary>
    /// How long a dequeued task stays invisible to other workers without a lease renewal. Workers
    /// renew every third of it while the task runs, so this bounds how fast a dead worker's task is
    /// recovered, not how long a task may run. Default 30 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.200", "1.00:00:00")]
    public TimeSpan VisibilityTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Most starts of one task (handler failures and expired leases both count). Default 3.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 3;

    /// <summary>The built-in kinds that exist to try Notify out and to measure it: <c>demo</c> and <c>noop</c>.</summary>
    public static IReadOnlyList<string> DemoKinds { get; } = ["demo", "noop"];

    /// <summary>
    /// The task kinds the Api accepts besides the <see cref="DemoKinds"/>; every Worker must have a
    /// handler for each. Default none.
    /// </summary>
    public string[] Kinds { get; set; } = [];

    /// <summary>
    /// Whether the <see cref="DemoKinds"/> are accepted too. Unset: true in the Development environment,
    /// false in every other (see <see cref="TaskQueueExtensions.AddTaskQueue"/>), so a production
    /// deployment does not let every signed-in user run them.
    /// </summary>
    public bool? EnableDemoKinds { get; set; }

    /// <summary>The kinds in effect: <see cref="Kinds"/>, plus the <see cref="DemoKinds"/> when enabled.</summary>
    public IReadOnlyList<string> EnabledKinds =>
        EnableDemoKinds == true ? [.. DemoKinds.Concat(Kinds).Distinct(StringComparer.Ordinal)] : [.. Kinds.Distinct(StringComparer.Ordinal)];

    /// <summary>Largest <c>params</c> of one task (and of each batch item), serialized; larger is 413. Default 16 KiB.</summary>
    [Range(2, 1024 * 1024)]
    public int MaxParamsBytes { get; set; } = 16 * 1024;

    /// <summary>Most items of one <c>POST /api/batches</c>; more is 413. Default 1,000.</summary>
    [Range(1, 100_000)]
    public int MaxBatchItems { get; set; } = 1_000;

    /// <summary>Most waiting (queued) tasks of one user; more is 429. Default 1,000.</summary>
    [Range(1, 10_000_000)]
    public int MaxQueuedPerUser { get; set; } = 1_000;

    /// <summary>
    /// Most finished tasks and batches kept per user (within <see cref="FinishedRetention"/>): when one
    /// more finishes, the user's oldest finished one is deleted at once. Default 10,000.
    /// </summary>
    [Range(1, 10_000_000)]
    public int MaxFinishedPerUser { get; set; } = 10_000;

    /// <summary>Most waiting (queued) tasks in total; more is 503. Default 1,000,000.</summary>
    [Range(1, 100_000_000)]
    public int MaxQueuedTotal { get; set; } = 1_000_000;

    /// <summary>How long a progress snapshot is kept after its last update. Default 1 h.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00")]
    public TimeSpan SnapshotTtl { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How long a finished task (and a finished batch) stays readable, within <see cref="MaxFinishedPerUser"/>;
    /// a finished task keeps its outcome, not its <c>params</c>. Default 7 days.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "365.00:00:00")]
    public TimeSpan FinishedRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// Prefix of every queue key in Redis. Default <c>{notify:q}</c>: the braces are a Redis Cluster hash tag,
    /// so every queue key lives in one slot and the queue's scripts run there; a prefix without a
    /// <c>{…}</c> tag works on a single node only.
    /// </summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9_.:{}-]{1,64}$")]
    public string KeyPrefix { get; set; } = "{notify:q}";

    /// <summary>The limits from these options alone (see <see cref="QueueSettings"/> for the effective ones).</summary>
    public QueueLimits Limits => new(PerUserConcurrency, GlobalConcurrency, VisibilityTimeout, MaxAttempts);
}
