using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Notify.Core.Tasks;

namespace Notify.Worker.Handlers;

/// <summary>
/// Kind <c>demo</c>: runs weighted steps (weights 1, 2, 3, 1, 2, 3, ...; a step takes its weight times
/// the step duration) and reports progress several times per step. A resumed attempt skips the steps an
/// earlier attempt finished. Params (all optional): <c>steps</c> (1–100), <c>step_ms</c> (duration of a
/// weight-1 step, at most <see cref="DemoHandlerOptions.MaxStepDuration"/>; the whole attempt is kept
/// within <see cref="DemoHandlerOptions.MaxDuration"/>), <c>failure_rate</c> (0–1), <c>fail_attempts</c> (the first N attempts fail),
/// <c>fail</c> (every attempt fails). Used by the web UI, the tests and the benchmarks.
/// </summary>
public sealed class DemoTaskHandler(IOptionsMonitor<DemoHandlerOptions> options) : ITaskHandler
{
    public string Kind => "demo";

    public async Task<JsonElement?> RunAsync(TaskContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var o = options.CurrentValue;
        var p = context.Params is { ValueKind: JsonValueKind.Object } json ? json : default;
        var steps = Math.Clamp(Int(p, "steps") ?? o.Steps, 1, 100);
        var stepDuration = Int(p, "step_ms") is { } ms
            ? TimeSpan.FromMilliseconds(Math.Clamp(ms, 0, o.MaxStepDuration.TotalMilliseconds))
            : o.StepDuration;
        var totalWeight = Enumerable.Range(0, steps).Sum(Weight);
        if (stepDuration * totalWeight > o.MaxDuration)
        {
            stepDuration = o.MaxDuration / totalWeight;
        }
        var failureRate = Math.Clamp(Double(p, "failure_rate") ?? o.FailureRate, 0, 1);
        var failThisAttempt = Bool(p, "fail") == true
            || context.Attempt <= (Int(p, "fail_attempts") ?? 0)
            || (failureRate > 0 && Random.Shared.NextDouble() < failureRate);

        var plan = Enumerable.Range(0, steps)
            .Select(i => new ProgressStep($"step {i + 1} of {steps}", Weight(i), stepDuration * Weight(i)))
            .ToArray();
        var tracker = context.CreateTracker(plan);
        var updates = o.UpdatesPerStep;

        await context.ReportAsync(tracker.Snapshot(tracker.ResumedSteps > 0
            ? $"resumed at step {tracker.ResumedSteps + 1} (attempt {context.Attempt})"
            : $"started (attempt {context.Attempt})"), cancellationToken);

        for (var i = tracker.CompletedSteps; i < steps; i++)
        {
            if (failThisAttempt && i == steps / 2)
            {
                throw new InvalidOperationException($"demo failure at step {i + 1} (attempt {context.Attempt})");
            }
            var slice = plan[i].Estimate!.Value / updates;
            for (var u = 1; u < updates; u++)
            {
                await Task.Delay(slice, context.Time, cancellationToken);
                await context.ReportAsync(tracker.Advance((double)u / updates), cancellationToken);
            }
            await Task.Delay(slice, context.Time, cancellationToken);
            await context.ReportAsync(tracker.CompleteStep(), cancellationToken);
        }
        return JsonSerializer.SerializeToElement(new Dictionary<string, object>
        {
            ["steps"] = steps,
            ["attempt"] = context.Attempt,
            ["finished_at"] = context.Time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture),
        });
    }

    private static int Weight(int step) => 1 + (step % 3);

    private static int? Int(JsonElement p, string name) =>
        p.ValueKind == JsonValueKind.Object && p.TryGetProperty(name, out var v) && v.TryGetInt32(out var i) ? i : null;

    private static double? Double(JsonElement p, string name) =>
        p.ValueKind == JsonValueKind.Object && p.TryGetProperty(name, out var v) && v.TryGetDouble(out var d) ? d : null;

    private static bool? Bool(JsonElement p, string name) =>
        p.ValueKind == JsonValueKind.Object && p.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;
}
