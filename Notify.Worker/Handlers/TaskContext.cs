using System.Text.Json;
using Notify.Core.Tasks;

namespace Notify.Worker.Handlers;

/// <summary>What a handler gets for one attempt of a task: the task, where an earlier attempt got to, and progress reporting.</summary>
public sealed class TaskContext
{
    private readonly Func<TaskProgress, CancellationToken, Task> _report;

    internal TaskContext(TaskLease lease, TaskProgress? previous, TimeProvider time, Func<TaskProgress, CancellationToken, Task> report)
    {
        Lease = lease;
        Previous = previous;
        Time = time;
        _report = report;
    }

    internal TaskLease Lease { get; }

    public TaskRecord Task => Lease.Task;

    public JsonElement? Params => Lease.Task.Params;

    /// <summary>1 on the first run, higher after a retry or a recovery.</summary>
    public int Attempt => Lease.Task.Attempts;

    /// <summary>The progress snapshot an earlier attempt left (null on the first attempt).</summary>
    public TaskProgress? Previous { get; }

    public TimeProvider Time { get; }

    /// <summary>A tracker over <paramref name="steps"/> that resumes from <see cref="Previous"/> when its steps match.</summary>
    public ProgressTracker CreateTracker(IReadOnlyList<ProgressStep> steps) =>
        new(Task.Id, steps, Time, Task.StartedAt, Previous);

    /// <summary>
    /// Publishes <paramref name="progress"/> (snapshot and <c>progress</c> frame) and renews the lease.
    /// When the lease is lost or a cancel was requested, the attempt's token fires.
    /// </summary>
    public Task ReportAsync(TaskProgress progress, CancellationToken cancellationToken) => _report(progress, cancellationToken);
}
