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
    public int Attempts { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public string? Error { get; init; }
}

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

/// <summary>The <c>progress</c> event data of a batch (PROTOCOL.md §5).</summary>
public sealed record BatchProgress
{
    public required string BatchId { get; init; }
    public int Total { get; init; }
    public int Completed { get; init; }
    public int Failed { get; init; }
    public int Running { get; init; }
    public int Queued { get; init; }
    /// <summary>0–100: finished (completed, failed or cancelled) over total.</summary>
    public double Progress { get; init; }
    public required DateTimeOffset Timestamp { get; init; }
}
