using System.ComponentModel.DataAnnotations;

namespace Notify.AppHost.Hosting;

/// <summary>How the AppHost runs the graph locally, section <c>AppHost</c> (environment <c>AppHost__Key</c> or <c>--AppHost:Key=value</c>).</summary>
public sealed class AppHostOptions
{
    public const string SectionName = "AppHost";

    /// <summary>Install <c>redis-server</c> with apt-get when it is missing and the AppHost runs as root. Default true.</summary>
    public bool InstallMissing { get; set; } = true;

    /// <summary>Deadline for every resource to become healthy; past it the AppHost stops everything and exits 1. Default 2 min.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan StartupTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a child gets after SIGTERM before it is killed. Default 10 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Restarts of a crashed child in a row (the count resets once it ran a minute); then it stays down. Default 5.</summary>
    [Range(0, 1000)]
    public int MaxRestarts { get; set; } = 5;

    /// <summary>First restart delay, doubled per restart in a row up to 30 s. Default 1 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan RestartDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Start <c>mongod</c> when it is on PATH. Default true; false makes the services use SQLite.</summary>
    public bool UseMongod { get; set; } = true;

    /// <summary>SQLite file the services share when no MongoDB runs. Default: <c>notify.db</c> in the run's temp folder (deleted at stop).</summary>
    public string? SqlitePath { get; set; }

    /// <summary>Build configuration whose output is launched (<c>bin/&lt;Configuration&gt;/net10.0</c>). Default: the AppHost's own.</summary>
    public string? Configuration { get; set; }

    /// <summary>ASPNETCORE_ENVIRONMENT of the services. Default Development.</summary>
    [Required]
    public string Environment { get; set; } = "Development";
}
