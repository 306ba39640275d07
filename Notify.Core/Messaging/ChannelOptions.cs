using System.ComponentModel.DataAnnotations;

namespace Notify.Core.Messaging;

/// <summary>Channel history limits, section <c>Channels</c>.</summary>
public sealed class ChannelOptions
{
    public const string SectionName = "Channels";

    /// <summary>Most entries kept per channel for <c>since</c> replay. Default 1,000.</summary>
    [Range(1, 1_000_000)]
    public int HistorySize { get; set; } = 1_000;

    /// <summary>Entries older than this are trimmed; an idle channel's history expires after it. Default 86,400 (one day).</summary>
    [Range(1, 30 * 86_400)]
    public int HistoryTtlSeconds { get; set; } = 86_400;
}
