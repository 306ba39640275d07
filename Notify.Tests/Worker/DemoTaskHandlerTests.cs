using Notify.Tests.Infrastructure;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Notify.Core.Tasks;
using Notify.Tests.Tasks;
using Notify.Worker.Handlers;

namespace Notify.Tests.Worker;

/// <summary>The <c>demo</c> handler's bounds, on a fake clock: how long one attempt may hold a running slot.</summary>
public sealed class DemoTaskHandlerTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    // 6 steps weigh 1 + 2 + 3 + 1 + 2 + 3 = 12: 10 s per weight is exactly the 2 min limit and runs as asked.
    [InlineData(6, 10_000, 120_000)]
    // A 7th step (weight 1) would make it 130 s: shortened to the limit.
    [InlineData(7, 10_000, 120_000)]
    // 100 steps asking for an hour per weight (capped at 10 s, 199 weights) would hold a slot for 33 minutes.
    [InlineData(100, 3_600_000, 120_000)]
    // Short plans are untouched.
    [InlineData(2, 1_000, 3_000)]
    public async Task RunAsync_PlanLongerThanMaxDuration_FinishesWithinIt(int steps, int stepMs, int expectedMs)
    {
        var time = new FakeTimeProvider(Start);
        var handler = new DemoTaskHandler(new StaticOptions<DemoHandlerOptions>(new DemoHandlerOptions()));
        var lease = new TaskLease(new TaskRecord
        {
            Id = "t1",
            UserId = "kim",
            Kind = "demo",
            Params = JsonSerializer.SerializeToElement(new { steps, step_ms = stepMs }),
            Attempts = 1,
            CreatedAt = Start,
            StartedAt = Start,
        }, "token", Start + TimeSpan.FromSeconds(30));
        var context = new TaskContext(lease, previous: null, time, (_, _) => Task.CompletedTask);

        var run = handler.RunAsync(context, TestContext.Current.CancellationToken);
        var limit = TimeSpan.FromMilliseconds(expectedMs);
        // Fake time moves in 1 ms steps until the run ends: it must end at the expected moment, not later.
        while (!run.IsCompleted && time.GetUtcNow() - Start <= limit)
        {
            time.Advance(TimeSpan.FromMilliseconds(1));
            await Task.Yield();
        }
        await run.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        // Delays are whole milliseconds, so a shortened plan may end a little early, never late.
        Assert.InRange(time.GetUtcNow() - Start, limit * 0.99, limit + TimeSpan.FromMilliseconds(1));
    }
}
