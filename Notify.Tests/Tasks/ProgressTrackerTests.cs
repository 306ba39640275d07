using Microsoft.Extensions.Time.Testing;
using Notify.Core.Tasks;

namespace Notify.Tests.Tasks;

public sealed class ProgressTrackerTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void CompleteStep_WeightedSteps_PercentFollowsWeights()
    {
        var time = new FakeTimeProvider(Start);
        var tracker = new ProgressTracker("t1", [new("a", 1), new("b", 3)], time);

        Assert.Equal(0, tracker.Snapshot().Progress);
        Assert.Equal(12.5, tracker.Advance(0.5).Progress);
        var afterFirst = tracker.CompleteStep();
        Assert.Equal(25, afterFirst.Progress);
        Assert.Equal(2, afterFirst.Step);
        Assert.Equal(2, afterFirst.TotalSteps);
        Assert.Equal(62.5, tracker.Advance(0.5).Progress);
        var done = tracker.CompleteStep();
        Assert.Equal(100, done.Progress);
        Assert.Equal(0, done.EtaS);
        Assert.True(tracker.IsDone);
    }

    [Fact]
    public void Eta_AsStepsFinish_MovesFromEstimateToObservedPace()
    {
        var time = new FakeTimeProvider(Start);
        // Estimated 10 s per step, but the steps really take 2 s each.
        var steps = Enumerable.Range(0, 4).Select(i => new ProgressStep($"s{i}", 1, TimeSpan.FromSeconds(10))).ToArray();
        var tracker = new ProgressTracker("t1", steps, time, Start);

        Assert.Equal(40, tracker.Snapshot().EtaS);
        var etas = new List<double>();
        for (var i = 0; i < 3; i++)
        {
            time.Advance(TimeSpan.FromSeconds(2));
            etas.Add(tracker.CompleteStep().EtaS!.Value);
        }

        // Each finished step shifts trust to the observed 2 s/step; the last one left is 2 s observed vs 10 s estimated.
        Assert.Equal(etas.OrderDescending(), etas);
        Assert.Equal(0.75 * 2 + 0.25 * 10, etas[^1], 3);
        Assert.Equal(6, tracker.Snapshot().ElapsedS);
    }

    [Fact]
    public void Eta_WithoutEstimates_UnknownUntilAStepFinishes()
    {
        var time = new FakeTimeProvider(Start);
        var tracker = new ProgressTracker("t1", [new("a"), new("b"), new("c")], time);

        Assert.Null(tracker.Advance(0.5).EtaS);
        time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(6, tracker.CompleteStep().EtaS);
    }

    [Fact]
    public void Constructor_ResumeFromSnapshot_SkipsFinishedStepsAndNeverGoesBelowIt()
    {
        var time = new FakeTimeProvider(Start);
        var previous = new TaskProgress { TaskId = "t1", Status = TaskState.Queued, Step = 3, TotalSteps = 4, Progress = 55, ElapsedS = 9, Timestamp = Start };
        var tracker = new ProgressTracker("t1", [new("a"), new("b"), new("c"), new("d")], time, Start.AddSeconds(-9), previous);

        Assert.Equal(2, tracker.ResumedSteps);
        Assert.Equal(2, tracker.CompletedSteps);
        var snapshot = tracker.Advance(0.1);
        Assert.Equal(55, snapshot.Progress);
        Assert.Equal(3, snapshot.Step);
        Assert.Equal(9, snapshot.ElapsedS);
        Assert.Equal(75, tracker.CompleteStep().Progress);
    }

    [Fact]
    public void Constructor_NoStepsOrZeroWeight_Throws()
    {
        Assert.Throws<ArgumentException>(() => new ProgressTracker("t", [], TimeProvider.System));
        Assert.Throws<ArgumentException>(() => new ProgressTracker("t", [new("a", 0)], TimeProvider.System));
    }
}
