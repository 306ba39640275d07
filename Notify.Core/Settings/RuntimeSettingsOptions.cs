using System.ComponentModel.DataAnnotations;

namespace Notify.Core.Settings;

/// <summary>How often each service re-reads the stored runtime settings; section <c>RuntimeSettings</c>.</summary>
public sealed class RuntimeSettingsOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "RuntimeSettings";

    /// <summary>
    /// Interval of the background re-read: a value an administrator stores reaches every other service
    /// within this time (the service that stored it applies it at once). Default 5 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(5);
}
