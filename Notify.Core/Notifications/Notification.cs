using System.Text.Json;

namespace Notify.Core.Notifications;

/// <summary>A stored notification (PROTOCOL.md §2). <see cref="Id"/> sorts by creation order and is the resume cursor.</summary>
public sealed record Notification
{
    public required string Id { get; init; }
    public required string UserId { get; init; }
    public required string Type { get; init; }
    public required string Title { get; init; }
    public string Content { get; init; } = "";
    public string? Link { get; init; }
    public string? Source { get; init; }
    public NotificationSeverity Severity { get; init; } = NotificationSeverity.Info;
    public NotificationStatus Status { get; init; } = NotificationStatus.Unread;
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? ReadAt { get; init; }
    public JsonElement? Metadata { get; init; }
    /// <summary>When a client reported the notification shown (the badge counts unseen ones); separate from <see cref="ReadAt"/>.</summary>
    public DateTimeOffset? SeenAt { get; init; }
    /// <summary>When the owner archived it: archived notifications leave the default list and the badge.</summary>
    public DateTimeOffset? ArchivedAt { get; init; }
    /// <summary>Until when it is snoozed: a snoozed notification leaves the default list and comes back unread at that time.</summary>
    public DateTimeOffset? SnoozedUntil { get; init; }
}

/// <summary>How prominent a notification is.</summary>
public enum NotificationSeverity
{
    Info,
    Success,
    Warning,
    Error,
}

/// <summary>Whether the owner has read a notification.</summary>
public enum NotificationStatus
{
    Unread,
    Read,
}
