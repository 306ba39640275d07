using Notify.Core.Messaging;
using Notify.Realtime.Sessions;

namespace Notify.Realtime;

/// <summary>Source-generated logs of the Realtime service. Never logs tokens or frame contents.</summary>
internal static partial class RealtimeLog
{
    [LoggerMessage(1, LogLevel.Debug, "Subscribed to {Kind} topic {Key}")]
    public static partial void TopicSubscribed(ILogger logger, BusTopicKind kind, string key);

    [LoggerMessage(2, LogLevel.Debug, "Unsubscribed from {Kind} topic {Key}")]
    public static partial void TopicUnsubscribed(ILogger logger, BusTopicKind kind, string key);

    [LoggerMessage(3, LogLevel.Warning, "Unsubscribing from {Kind} topic {Key} failed")]
    public static partial void UnsubscribeFailed(ILogger logger, Exception exception, BusTopicKind kind, string key);

    [LoggerMessage(4, LogLevel.Information, "Connection {ConnectionId} of {UserId} opened ({Kind}, {Transport})")]
    public static partial void Opened(ILogger logger, string connectionId, string userId, string kind, string transport);

    [LoggerMessage(5, LogLevel.Information, "Connection {ConnectionId} of {UserId} closed: {Code} {Reason}")]
    public static partial void Closed(ILogger logger, string connectionId, string userId, int code, string reason);

    [LoggerMessage(6, LogLevel.Information, "Rejected a {Transport} stream: {Refusal} ({Detail})")]
    public static partial void Rejected(ILogger logger, string transport, Refusal refusal, string detail);

    [LoggerMessage(7, LogLevel.Warning, "Connection {ConnectionId} failed")]
    public static partial void ConnectionFailed(ILogger logger, Exception exception, string connectionId);

    [LoggerMessage(8, LogLevel.Warning, "Publishing presence failed")]
    public static partial void PresenceFailed(ILogger logger, Exception exception);

    [LoggerMessage(9, LogLevel.Information, "Shutting down: closing {Count} connections with 1001")]
    public static partial void ShuttingDown(ILogger logger, int count);

    [LoggerMessage(10, LogLevel.Information, "Replay for {ConnectionId} exceeded {Limit}; sent resync")]
    public static partial void ReplayTooLong(ILogger logger, string connectionId, int limit);

    [LoggerMessage(11, LogLevel.Warning, "Releasing connection {ConnectionId} failed; its slots are released anyway")]
    public static partial void ReleaseFailed(ILogger logger, Exception exception, string connectionId);

    [LoggerMessage(12, LogLevel.Warning, "Refused a stream: this instance holds Realtime:MaxConnections ({Limit}) streams")]
    public static partial void InstanceFull(ILogger logger, int limit);

    [LoggerMessage(13, LogLevel.Warning, "Publishing read of {NotificationId} to the other connections of {UserId} failed")]
    public static partial void ReadPublishFailed(ILogger logger, Exception exception, string notificationId, string userId);

    [LoggerMessage(14, LogLevel.Information, "Realtime:DirectUpgrade is on, but WebSockets upgrade through the request pipeline: {Reason}")]
    public static partial void DirectUpgradeOff(ILogger logger, string reason);

    // Subscription recovery (catch-up after a lost Redis subscription) numbers its events from 101.
    [LoggerMessage(101, LogLevel.Warning, "Reading where {Kind} topic {Key} stands failed; it is not caught up after a lost subscription")]
    public static partial void FeedStartFailed(ILogger logger, Exception exception, BusTopicKind kind, string key);

    [LoggerMessage(102, LogLevel.Warning, "The Redis subscription connection was lost ({FailureType}); holding live frames until it is back")]
    public static partial void SubscriptionLost(ILogger logger, string failureType);

    [LoggerMessage(103, LogLevel.Information, "Redis subscriptions restored: caught up {Topics} topics ({Replayed} frames replayed, {Resyncs} resyncs) in {ElapsedMs} ms")]
    public static partial void CaughtUp(ILogger logger, int topics, int replayed, int resyncs, long elapsedMs);

    [LoggerMessage(104, LogLevel.Warning, "Catching up {Kind} topic {Key} failed; its clients resume on reconnect")]
    public static partial void CatchUpFailed(ILogger logger, Exception exception, BusTopicKind kind, string key);

    [LoggerMessage(107, LogLevel.Warning, "A Redis Cluster node whose subscription connection was lost owns no slots any more (a replica was promoted); reconfigured, catching up")]
    public static partial void ShardPromoted(ILogger logger);

    [LoggerMessage(108, LogLevel.Debug, "Reloading the Redis Cluster's slot map failed; trying again in a second")]
    public static partial void ShardCheckFailed(ILogger logger, Exception exception);

    [LoggerMessage(105, LogLevel.Warning, "Waiting for the restored Redis subscriptions failed; trying again")]
    public static partial void SubscriberPingFailed(ILogger logger, Exception exception);

    [LoggerMessage(106, LogLevel.Information, "Catching up {Kind} topic {Key} needed more than the replay limit; sent resync ({Reason})")]
    public static partial void CatchUpResync(ILogger logger, BusTopicKind kind, string key, string reason);
}
