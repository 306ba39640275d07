using System.ComponentModel.DataAnnotations;

namespace Notify.Realtime.Options;

/// <summary>Server-Sent Events timings, section <c>Sse</c> (the SSE_* settings of the original system).</summary>
public sealed class SseOptions
{
    public const string SectionName = "Sse";

    /// <summary>Longest a task stream waits for the next update before it re-checks its idle limit and heartbeat (SSE_POLL_TIMEOUT_SECONDS). Default 1.</summary>
    [Range(1, 60)]
    public int PollTimeoutSeconds { get; set; } = 1;

    /// <summary>Interval of <c>heartbeat</c> events on SSE streams (SSE_HEARTBEAT_INTERVAL_SECONDS). Default 15.</summary>
    [Range(1, 3_600)]
    public int HeartbeatIntervalSeconds { get; set; } = 15;

    /// <summary>A task stream without any update for this long ends (SSE_TASK_MAX_IDLE_SECONDS). Default 300.</summary>
    [Range(1, 86_400)]
    public int TaskMaxIdleSeconds { get; set; } = 300;

    /// <summary>How often a batch stream re-reads the batch snapshot when no update arrived (SSE_BATCH_POLL_INTERVAL_SECONDS). Default 2.</summary>
    [Range(1, 60)]
    public int BatchPollIntervalSeconds { get; set; } = 2;

    /// <summary>A batch stream without any update for this long ends (SSE_BATCH_MAX_IDLE_SECONDS). Default 600.</summary>
    [Range(1, 86_400)]
    public int BatchMaxIdleSeconds { get; set; } = 600;

    /// <summary>The <c>retry:</c> value sent on connect: how long browsers wait before reconnecting. Default 3,000 ms.</summary>
    [Range(0, 600_000)]
    public int RetryMilliseconds { get; set; } = 3_000;
}
