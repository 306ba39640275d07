using System.ComponentModel.DataAnnotations;

namespace Notify.Worker.Handlers;

/// <summary>Defaults of the <c>demo</c> handler, section <c>Worker:Demo</c>; a task's params may override them within the limits.</summary>
public sealed class DemoHandlerOptions
{
    public const string SectionName = "Worker:Demo";

    /// <summary>Number of steps. Default 5.</summary>
    [Range(1, 100)]
    public int Steps { get; set; } = 5;

    /// <summary>Duration of a step of weight 1 (a step of weight w takes w times as long). Default 1 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan StepDuration { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Progress updates within one step. Default 4.</summary>
    [Range(1, 100)]
    public int UpdatesPerStep { get; set; } = 4;

    /// <summary>Chance (0–1) that an attempt fails at its middle step. Default 0.</summary>
    [Range(0.0, 1.0)]
    public double FailureRate { get; set; }

    /// <summary>Longest step duration a task's <c>step_ms</c> may ask for. Default 10 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan MaxStepDuration { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Longest run of one attempt: a plan whose steps would take longer has its step duration shortened
    /// to fit, so a demo task never holds one of its user's running slots for long. Default 2 min.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan MaxDuration { get; set; } = TimeSpan.FromMinutes(2);
}
