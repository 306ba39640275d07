using System.Text.Json;

namespace Notify.Api.Notifications;

/// <summary>Body of <c>POST /api/notifications</c>: a notification for <see cref="UserId"/>.</summary>
public sealed record CreateNotificationRequest
{
    /// <summary>Owner of the notification (required, ≤ 128 characters).</summary>
    public string? UserId { get; init; }
    /// <summary>Category, ≤ 64 characters of <c>[A-Za-z0-9_.:-]</c> (required).</summary>
    public string? Type { get; init; }
    /// <summary>Headline, ≤ 200 characters (required).</summary>
    public string? Title { get; init; }
    /// <summary>Body text, ≤ 4,000 characters.</summary>
    public string? Content { get; init; }
    /// <summary>Where the UI navigates on click, ≤ 2,048 characters.</summary>
    public string? Link { get; init; }
    /// <summary>Producing system, ≤ 64 characters of <c>[A-Za-z0-9_.:-]</c>.</summary>
    public string? Source { get; init; }
    /// <summary><c>info</c> (default), <c>success</c>, <c>warning</c> or <c>error</c>.</summary>
    public string? Severity { get; init; }
    /// <summary>Any JSON object, ≤ 8 KiB serialized.</summary>
    public JsonElement? Metadata { get; init; }
}

/// <summary>Body of <c>POST /api/notifications/send</c> (the seed-compatible form).</summary>
public sealed record SendNotificationRequest
{
    /// <summary>Owner of the notification (required).</summary>
    public string? TargetUser { get; init; }
    /// <summary>Becomes <c>type</c> and, since this form has no title, also <c>title</c> (required).</summary>
    public string? NotificationType { get; init; }
    /// <summary>Body text, ≤ 4,000 characters (required).</summary>
    public string? Content { get; init; }
    /// <summary>Optional channel name; kept as <c>metadata.channel</c>.</summary>
    public string? Channel { get; init; }
    /// <summary>Optional JSON object; becomes <c>metadata</c>.</summary>
    public JsonElement? Data { get; init; }
}

/// <summary>Body of <c>POST /api/notifications/broadcast</c>.</summary>
public sealed record BroadcastRequest
{
    /// <summary>Category, ≤ 64 characters of <c>[A-Za-z0-9_.:-]</c> (required).</summary>
    public string? Type { get; init; }
    /// <summary>Body text, ≤ 4,000 characters (required).</summary>
    public string? Content { get; init; }
    /// <summary>Headline, ≤ 200 characters. Default empty.</summary>
    public string? Title { get; init; }
    /// <summary><c>public:*</c>, <c>admin</c> or <c>admin:*</c>; without it every connected user receives it.</summary>
    public string? Channel { get; init; }
    /// <summary><c>info</c> (default), <c>success</c>, <c>warning</c> or <c>error</c>.</summary>
    public string? Level { get; init; }
}

/// <summary>The payload of a broadcast's <c>message</c> frame.</summary>
public sealed record BroadcastPayload(string Type, string Title, string Content, string Level);

/// <summary>Answer to a broadcast: the stream offset clients resume from, and where it went.</summary>
public sealed record BroadcastResponse(string Id, string Channel, DateTimeOffset CreatedAt);

/// <summary>A page of the caller's notifications, newest first.</summary>
public sealed record NotificationListResponse(IReadOnlyList<Core.Notifications.Notification> Items, string? NextCursor);

/// <summary><c>{ "count": n }</c>.</summary>
public sealed record UnreadCountResponse(long Count);

/// <summary><c>{ "updated": n }</c>.</summary>
public sealed record ReadAllResponse(long Updated);

/// <summary>Answer to a create the user's preference turned off: nothing was stored or published.</summary>
public sealed record SuppressedResponse(bool Suppressed, string UserId, string Type);

/// <summary>Body of <c>POST /api/notifications/{id}/snooze</c>.</summary>
public sealed record SnoozeRequest
{
    /// <summary>When it comes back: in the future, at most <c>NotificationLimits.MaxSnooze</c> ahead.</summary>
    public DateTimeOffset? Until { get; init; }
}

/// <summary>Body of <c>POST /api/notifications/bulk</c>.</summary>
public sealed record BulkRequest
{
    /// <summary><c>read</c>, <c>seen</c>, <c>archive</c> or <c>delete</c> (required).</summary>
    public string? Action { get; init; }
    /// <summary>Only this type.</summary>
    public string? Type { get; init; }
    /// <summary>Only notifications created before this time.</summary>
    public DateTimeOffset? Before { get; init; }
    /// <summary>Only <c>read</c> or <c>unread</c> ones.</summary>
    public string? Status { get; init; }
}
