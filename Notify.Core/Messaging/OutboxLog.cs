using Microsoft.Extensions.Logging;

namespace Notify.Core.Messaging;

/// <summary>The outbox's log messages. Never notification bodies.</summary>
internal static partial class OutboxLog
{
    [LoggerMessage(1, LogLevel.Debug, "Notification {NotificationId} of user {UserId} waits in the outbox")]
    public static partial void Deferred(ILogger logger, string notificationId, string userId);

    [LoggerMessage(2, LogLevel.Warning, "Publishing notification {NotificationId} of user {UserId} failed; it waits in the outbox")]
    public static partial void PublishFailed(ILogger logger, Exception exception, string notificationId, string userId);

    [LoggerMessage(3, LogLevel.Information, "Outbox drained: published {Count} waiting notifications")]
    public static partial void Drained(ILogger logger, int count);

    [LoggerMessage(4, LogLevel.Warning, "Draining the outbox failed; retrying in {Delay}")]
    public static partial void DrainFailed(ILogger logger, Exception exception, TimeSpan delay);

    [LoggerMessage(5, LogLevel.Warning, "Marking {Count} notifications published failed; they stay in the outbox and may be published again")]
    public static partial void MarkFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(6, LogLevel.Warning, "Published {Count} notifications another writer stored but never published")]
    public static partial void Abandoned(ILogger logger, int count);

    [LoggerMessage(7, LogLevel.Warning, "Publishing an inbox change to {Kind} topic {Key} failed; other tabs see it on their next reload")]
    public static partial void BestEffortFailed(ILogger logger, Exception exception, BusTopicKind kind, string key);

    [LoggerMessage(8, LogLevel.Warning, "Publishing new notifications paused ({Reason}): they wait in the outbox until it is drained")]
    public static partial void Holding(ILogger logger, string reason);

    [LoggerMessage(9, LogLevel.Warning, "Notifications of {Users} users wait in the outbox: the Redis Cluster shard of their topic is unreachable; retrying in {Delay}")]
    public static partial void ShardsUnreachable(ILogger logger, int users, TimeSpan delay);
}
