using System.ComponentModel.DataAnnotations;

namespace Notify.Core.Messaging;

/// <summary>How stored notifications whose live publication failed are published later, section <c>Outbox</c>.</summary>
public sealed class OutboxOptions
{
    public const string SectionName = "Outbox";

    /// <summary>
    /// While publishing fails (Redis down or unreachable), how often the outbox tries again to publish
    /// what is waiting. It also tries at once when the Redis connection comes back. Default 1 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan RetryInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often the outbox looks for notifications another writer stored but never published (it died
    /// between the insert and the publish): one still waiting at two looks in a row is published. So
    /// such a notification goes out live within two intervals. Default 30 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Most notifications read from the outbox (and marked published) at a time. Default 500.</summary>
    [Range(1, 100_000)]
    public int BatchSize { get; set; } = 500;
}
