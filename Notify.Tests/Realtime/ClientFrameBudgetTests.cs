using Microsoft.Extensions.Time.Testing;
using Notify.Realtime.Sessions;

namespace Notify.Tests.Realtime;

/// <summary>The per-connection client-frame limits (<c>Realtime:ClientFrameRate</c>, <c>Realtime:MaxClientErrors</c>) on fake time.</summary>
public sealed class ClientFrameBudgetTests
{
    [Fact]
    public void TryTake_ExactlyTheRateAtOnce_Passes_TheNextIsRefused()
    {
        var time = new FakeTimeProvider();
        var budget = new ClientFrameBudget(20, time);

        for (var i = 0; i < 20; i++)
        {
            Assert.True(budget.TryTake(), $"frame {i + 1} of 20");
        }
        Assert.False(budget.TryTake());
    }

    [Fact]
    public void TryTake_AfterOneRateInterval_OneMorePasses()
    {
        var time = new FakeTimeProvider();
        var budget = new ClientFrameBudget(10, time);
        for (var i = 0; i < 10; i++)
        {
            budget.TryTake();
        }

        time.Advance(TimeSpan.FromMilliseconds(99));
        Assert.False(budget.TryTake());
        time.Advance(TimeSpan.FromMilliseconds(2));
        Assert.True(budget.TryTake());
        Assert.False(budget.TryTake());
    }

    [Fact]
    public void TryTake_AfterALongSilence_BurstIsCappedAtTheRate()
    {
        var time = new FakeTimeProvider();
        var budget = new ClientFrameBudget(5, time);

        time.Advance(TimeSpan.FromHours(1));

        Assert.Equal(5, Enumerable.Range(0, 10).Count(_ => budget.TryTake()));
    }

    [Fact]
    public void TryReject_ExactlyTheAllowedNumber_Passes_TheNextIsRefused()
    {
        var budget = new ClientFrameBudget(20, new FakeTimeProvider());

        for (var i = 0; i < 3; i++)
        {
            Assert.True(budget.TryReject(3));
        }
        Assert.False(budget.TryReject(3));
    }
}
