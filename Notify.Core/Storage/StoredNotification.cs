using Notify.Core.Notifications;

namespace Notify.Core.Storage;

/// <summary>What every store adapter writes and reads the same way: stored time precision and severity names.</summary>
internal static class StoredNotification
{
    /// <summary>The notification as a read returns it: times cut to the stored millisecond precision.</summary>
    internal static Notification AsStored(Notification notification) => notification with
    {
        CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(notification.CreatedAt.ToUnixTimeMilliseconds()),
        ReadAt = Truncated(notification.ReadAt),
        SeenAt = Truncated(notification.SeenAt),
        ArchivedAt = Truncated(notification.ArchivedAt),
        SnoozedUntil = Truncated(notification.SnoozedUntil),
    };

    /// <summary>A time cut to the stored millisecond precision.</summary>
    internal static DateTimeOffset? Truncated(DateTimeOffset? value) =>
        value is { } time ? DateTimeOffset.FromUnixTimeMilliseconds(time.ToUnixTimeMilliseconds()) : null;

    internal static string SeverityName(NotificationSeverity severity) => severity switch
    {
        NotificationSeverity.Success => "success",
        NotificationSeverity.Warning => "warning",
        NotificationSeverity.Error => "error",
        _ => "info",
    };

    internal static NotificationSeverity ParseSeverity(string name) => name switch
    {
        "success" => NotificationSeverity.Success,
        "warning" => NotificationSeverity.Warning,
        "error" => NotificationSeverity.Error,
        _ => NotificationSeverity.Info,
    };
}
