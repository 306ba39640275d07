namespace Notify.Api;

/// <summary>The Api's log messages. Never tokens, keys or notification bodies.</summary>
internal static partial class ApiLog
{
    [LoggerMessage(1, LogLevel.Debug, "Notification {NotificationId} created for user {UserId}")]
    public static partial void NotificationCreated(ILogger logger, string notificationId, string userId);

    [LoggerMessage(2, LogLevel.Information, "Idempotent retry answered with notification {NotificationId} of user {UserId}")]
    public static partial void IdempotentReplay(ILogger logger, string notificationId, string userId);

    [LoggerMessage(4, LogLevel.Information, "Request with an unknown API key rejected")]
    public static partial void ApiKeyRejected(ILogger logger);

    [LoggerMessage(5, LogLevel.Information, "Broadcast {PublicationId} published to {Channel}")]
    public static partial void Broadcast(ILogger logger, string publicationId, string channel);


    [LoggerMessage(6, LogLevel.Debug, "Rate limit hit by {Partition} on {Path}")]
    public static partial void RateLimited(ILogger logger, string partition, string path);

    [LoggerMessage(7, LogLevel.Warning, "Dev token issued for user {UserId}; dev tokens must be off in production")]
    public static partial void DevTokenIssued(ILogger logger, string userId);

    [LoggerMessage(8, LogLevel.Information, "Runtime settings changed by {UserId}: {Keys}")]
    public static partial void SettingsChanged(ILogger logger, string userId, string keys);

    [LoggerMessage(10, LogLevel.Information, "Idempotency key of {Caller} for user {UserId} reused for a different request; answered 422")]
    public static partial void IdempotencyKeyReused(ILogger logger, string caller, string userId);

    [LoggerMessage(11, LogLevel.Debug, "Notification of type {Type} for user {UserId} suppressed by preference")]
    public static partial void NotificationSuppressed(ILogger logger, string userId, string type);

    [LoggerMessage(12, LogLevel.Information, "Default preferences changed by {UserId}")]
    public static partial void DefaultPreferencesChanged(ILogger logger, string userId);

    [LoggerMessage(13, LogLevel.Warning, "{Path} answered 503: {Dependency} unavailable")]
    public static partial void DependencyUnavailable(ILogger logger, Exception exception, string path, string dependency);
}
