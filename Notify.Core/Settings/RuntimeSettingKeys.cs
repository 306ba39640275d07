namespace Notify.Core.Settings;

/// <summary>
/// The catalogue of runtime settings: the only keys <c>PUT /api/admin/settings</c> accepts. Each value is
/// read from the database when an administrator stored one, else from configuration at the same key,
/// else the built-in default.
/// </summary>
public static class RuntimeSettingKeys
{
    /// <summary>Seconds between WebSocket <c>heartbeat</c> frames (the <c>heartbeat_interval_s</c> of <c>connected</c>).</summary>
    public static readonly RuntimeSetting RealtimeHeartbeatInterval = new(
        "Realtime:HeartbeatIntervalSeconds", 30, 5, 600, SettingUnit.Seconds,
        "Seconds between WebSocket heartbeat frames.");

    /// <summary>Seconds between SSE <c>heartbeat</c> events (seed: SSE_HEARTBEAT_INTERVAL_SECONDS).</summary>
    public static readonly RuntimeSetting SseHeartbeatInterval = new(
        "Sse:HeartbeatIntervalSeconds", 15, 1, 600, SettingUnit.Seconds,
        "Seconds between SSE heartbeat events.");

    /// <summary>Longest single wait of an SSE stream for its next message before it re-checks idle and heartbeat (seed: SSE_POLL_TIMEOUT_SECONDS).</summary>
    public static readonly RuntimeSetting SsePollTimeout = new(
        "Sse:PollTimeoutSeconds", 1, 1, 60, SettingUnit.Seconds,
        "Longest single wait of an SSE stream for its next message.");

    /// <summary>A task's SSE stream ends after this many seconds without an update (seed: SSE_TASK_MAX_IDLE_SECONDS).</summary>
    public static readonly RuntimeSetting SseTaskMaxIdle = new(
        "Sse:TaskMaxIdleSeconds", 300, 10, 86_400, SettingUnit.Seconds,
        "A task's SSE stream ends after this many seconds without an update.");

    /// <summary>Seconds between progress computations of a batch's SSE stream (seed: SSE_BATCH_POLL_INTERVAL_SECONDS).</summary>
    public static readonly RuntimeSetting SseBatchPollInterval = new(
        "Sse:BatchPollIntervalSeconds", 2, 1, 60, SettingUnit.Seconds,
        "Seconds between progress computations of a batch's SSE stream.");

    /// <summary>A batch's SSE stream ends after this many seconds without progress (seed: SSE_BATCH_MAX_IDLE_SECONDS).</summary>
    public static readonly RuntimeSetting SseBatchMaxIdle = new(
        "Sse:BatchMaxIdleSeconds", 600, 10, 86_400, SettingUnit.Seconds,
        "A batch's SSE stream ends after this many seconds without progress.");

    /// <summary>Retention deletes notifications older than this many days.</summary>
    public static readonly RuntimeSetting RetentionDays = new(
        "Retention:Days", 90, 1, 3_650, SettingUnit.Days,
        "Notifications older than this many days are deleted by the retention job.");

    /// <summary>Retention keeps at most this many newest notifications per user; 0 means no per-user cap.</summary>
    public static readonly RuntimeSetting RetentionKeepPerUser = new(
        "Retention:KeepPerUser", 1_000, 0, 1_000_000, SettingUnit.Count,
        "The retention job keeps at most this many newest notifications per user (0: no cap).");

    /// <summary>Most tasks of one user running at once.</summary>
    public static readonly RuntimeSetting QueuePerUserConcurrency = new(
        "Queue:PerUserConcurrency", 3, 1, 1_000, SettingUnit.Count,
        "Most tasks of one user that run at the same time.");

    /// <summary>Most tasks running at once over all users.</summary>
    public static readonly RuntimeSetting QueueGlobalConcurrency = new(
        "Queue:GlobalConcurrency", 20, 1, 10_000, SettingUnit.Count,
        "Most tasks that run at the same time over all users.");

    /// <summary>Every runtime setting, in display order.</summary>
    public static IReadOnlyList<RuntimeSetting> All { get; } =
    [
        RealtimeHeartbeatInterval,
        SseHeartbeatInterval,
        SsePollTimeout,
        SseTaskMaxIdle,
        SseBatchPollInterval,
        SseBatchMaxIdle,
        RetentionDays,
        RetentionKeepPerUser,
        QueuePerUserConcurrency,
        QueueGlobalConcurrency,
    ];

    /// <summary>The setting named <paramref name="key"/> (case-insensitive, like configuration), or null.</summary>
    public static RuntimeSetting? Find(string key) =>
        All.FirstOrDefault(s => string.Equals(s.Key, key, StringComparison.OrdinalIgnoreCase));
}
