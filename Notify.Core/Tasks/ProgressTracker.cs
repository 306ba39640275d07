namespace Notify.Core.Tasks;

/// <summary>One step of a tracked task: its share of the work (<see cref="Weight"/>) and, optionally, how long it is expected to take.</summary>
public sealed record ProgressStep(string Name, double Weight = 1, TimeSpan? Estimate = null);

/// <summary>
/// Turns a task's weighted steps into <see cref="TaskProgress"/> data (seed 001's tracker): percentage
/// from the weights of finished steps plus the finished part of the current one, elapsed time since the
/// task's first start, and an ETA that starts from the steps' estimates and shifts to the pace observed
/// as steps finish. Progress never goes down, also across a resumed attempt. Not thread-safe: one
/// tracker per running task.
/// </summary>
public sealed class ProgressTracker
{
    private readonly IReadOnlyList<ProgressStep> _steps;
    private readonly TimeProvider _time;
    private readonly double _totalWeight;
    private readonly DateTimeOffset _startedAt;
    private readonly long _runStarted;
    private readonly double _floor;
    private readonly int _resumedSteps;
    private double _fraction;
    private double _last;
    private long _runTicksOnFinishedSteps;
    private long _stepStarted;

    /// <param name="taskId">The task.</param>
    /// <param name="steps">The steps, in order; at least one, positive weights.</param>
    /// <param name="time">Clock.</param>
    /// <param name="startedAt">When the task first started (elapsed time counts from here across attempts).</param>
    /// <param name="resumeFrom">The snapshot of an earlier attempt: its finished steps count as done and its progress is the floor.</param>
    public ProgressTracker(string taskId, IReadOnlyList<ProgressStep> steps, TimeProvider time, DateTimeOffset? startedAt = null, TaskProgress? resumeFrom = null)
    {
        ArgumentNullException.ThrowIfNull(steps);
        ArgumentNullException.ThrowIfNull(time);
        if (steps.Count == 0 || steps.Any(s => !(s.Weight > 0)))
        {
            throw new ArgumentException("At least one step, each with a positive weight.", nameof(steps));
        }
        TaskId = taskId;
        _steps = steps;
        _time = time;
        _totalWeight = steps.Sum(s => s.Weight);
        _startedAt = startedAt ?? time.GetUtcNow();
        _runStarted = time.GetTimestamp();
        _stepStarted = _runStarted;
        if (resumeFrom is { Step: > 0 } previous && previous.TotalSteps == steps.Count)
        {
            _resumedSteps = Math.Clamp(previous.Step - 1, 0, steps.Count);
            _floor = Math.Clamp(previous.Progress, 0, 100);
        }
        CompletedSteps = _resumedSteps;
        _last = Math.Max(_floor, WeightPercent(CompletedSteps, 0));
    }

    public string TaskId { get; }

    /// <summary>Steps finished so far (a resumed tracker starts with the earlier attempt's).</summary>
    public int CompletedSteps { get; private set; }

    /// <summary>Steps finished by an earlier attempt; a handler may skip them.</summary>
    public int ResumedSteps => _resumedSteps;

    public int TotalSteps => _steps.Count;

    /// <summary>All steps are finished.</summary>
    public bool IsDone => CompletedSteps >= _steps.Count;

    /// <summary>The current state without changing it.</summary>
    public TaskProgress Snapshot(string? message = null) => Build(message ?? CurrentName());

    /// <summary>Reports how much of the current step is done (0–1).</summary>
    public TaskProgress Advance(double fractionOfStep, string? message = null)
    {
        _fraction = Math.Clamp(fractionOfStep, 0, 1);
        return Build(message ?? CurrentName());
    }

    /// <summary>Finishes the current step; the next one (if any) starts now.</summary>
    public TaskProgress CompleteStep(string? message = null)
    {
        if (!IsDone)
        {
            var now = _time.GetTimestamp();
            _runTicksOnFinishedSteps += now - _stepStarted;
            _stepStarted = now;
            CompletedSteps++;
            _fraction = 0;
        }
        return Build(message ?? (IsDone ? "all steps done" : CurrentName()));
    }

    private string CurrentName() => IsDone ? "all steps done" : _steps[CompletedSteps].Name;

    private double WeightPercent(int completed, double fraction)
    {
        var done = 0.0;
        for (var i = 0; i < completed && i < _steps.Count; i++)
        {
            done += _steps[i].Weight;
        }
        if (completed < _steps.Count)
        {
            done += _steps[completed].Weight * fraction;
        }
        return 100.0 * done / _totalWeight;
    }

    private TaskProgress Build(string message)
    {
        var percent = Math.Max(_last, Math.Min(100, WeightPercent(CompletedSteps, _fraction)));
        _last = percent;
        return new TaskProgress
        {
            TaskId = TaskId,
            Status = TaskState.Running,
            Message = message,
            Step = Math.Min(CompletedSteps + 1, _steps.Count),
            TotalSteps = _steps.Count,
            Progress = Math.Round(percent, 2),
            ElapsedS = Math.Round(Math.Max(0, (_time.GetUtcNow() - _startedAt).TotalSeconds), 3),
            EtaS = Eta(percent) is { } eta ? Math.Round(eta, 3) : null,
            Timestamp = _time.GetUtcNow(),
        };
    }

    private double? Eta(double percent)
    {
        if (IsDone || percent >= 100)
        {
            return 0;
        }
        var remainingWeight = _totalWeight * (100 - percent) / 100;

        // Estimated: the steps' own estimates for what is left.
        double? estimated = null;
        if (_steps.All(s => s.Estimate is not null))
        {
            var left = 0.0;
            for (var i = CompletedSteps; i < _steps.Count; i++)
            {
                var share = i == CompletedSteps ? 1 - _fraction : 1;
                left += _steps[i].Estimate!.Value.TotalSeconds * share;
            }
            estimated = left;
        }

        // Observed: the pace of the steps this run has finished.
        var finishedThisRun = CompletedSteps - _resumedSteps;
        if (finishedThisRun <= 0)
        {
            return estimated;
        }
        var doneWeight = 0.0;
        for (var i = _resumedSteps; i < CompletedSteps; i++)
        {
            doneWeight += _steps[i].Weight;
        }
        var secondsPerWeight = TimeSpan.FromTicks(ToTicks(_runTicksOnFinishedSteps)).TotalSeconds / doneWeight;
        var observed = remainingWeight * secondsPerWeight;
        if (estimated is not { } e)
        {
            return observed;
        }
        // The more of the work is done, the more the observed pace counts.
        var trust = doneWeight / _totalWeight;
        return (trust * observed) + ((1 - trust) * e);
    }

    private long ToTicks(long timestampDelta) => (long)(timestampDelta * ((double)TimeSpan.TicksPerSecond / _time.TimestampFrequency));
}
