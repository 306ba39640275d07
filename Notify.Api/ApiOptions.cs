using System.ComponentModel.DataAnnotations;

namespace Notify.Api;

/// <summary>Request limits of the REST API, section <c>Api</c>.</summary>
public sealed class ApiOptions
{
    public const string SectionName = "Api";

    /// <summary>Largest request body accepted; a larger one is answered 413. Default 65,536 (64 KiB).</summary>
    [Range(1_024, 16 * 1024 * 1024)]
    public long MaxRequestBodyBytes { get; set; } = 64 * 1024;

    /// <summary>Length of the fixed window the create rate limits count in. Default 10 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan RateLimitWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Creates (notifications and broadcasts) one user token may make per window. Default 100.</summary>
    [Range(1, 10_000_000)]
    public int UserCreatesPerWindow { get; set; } = 100;

    /// <summary>Creates one API key may make per window. Default 50,000.</summary>
    [Range(1, 10_000_000)]
    public int ApiKeyCreatesPerWindow { get; set; } = 50_000;

    /// <summary>
    /// Task and batch creates (<c>POST /api/tasks</c>, <c>POST /api/batches</c>) one user may make per
    /// window; more is 429. Default 20.
    /// </summary>
    [Range(1, 10_000_000)]
    public int UserTaskCreatesPerWindow { get; set; } = 20;

    /// <summary>Requests waiting for a permit once a window is used up (0: reject at once). Default 0.</summary>
    [Range(0, 10_000)]
    public int RateLimitQueue { get; set; }
}
