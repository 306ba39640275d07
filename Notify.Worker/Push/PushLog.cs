namespace Notify.Worker.Push;

/// <summary>Log messages of Web Push sending. Endpoints are logged by subscription id only (they carry a capability token).</summary>
internal static partial class PushLog
{
    [LoggerMessage(101, LogLevel.Information, "Web Push on: notifications for users without a live connection are pushed")]
    public static partial void Started(ILogger logger);

    [LoggerMessage(102, LogLevel.Information, "Web Push off: no Push:VapidPublicKey configured")]
    public static partial void Disabled(ILogger logger);

    [LoggerMessage(103, LogLevel.Debug, "Notification {NotificationId} pushed to subscription {SubscriptionId}")]
    public static partial void Sent(ILogger logger, string notificationId, string subscriptionId);

    [LoggerMessage(104, LogLevel.Information, "Push subscription {SubscriptionId} of user {UserId} is gone ({Status}); deleted")]
    public static partial void Gone(ILogger logger, string subscriptionId, string userId, int status);

    [LoggerMessage(105, LogLevel.Warning, "Push to subscription {SubscriptionId} failed (attempt {Attempt}, status {Status}); retrying in {Delay}")]
    public static partial void Retrying(ILogger logger, Exception exception, string subscriptionId, int attempt, int status, TimeSpan delay);

    [LoggerMessage(106, LogLevel.Warning, "Push of notification {NotificationId} to subscription {SubscriptionId} given up (status {Status})")]
    public static partial void GaveUp(ILogger logger, Exception exception, string notificationId, string subscriptionId, int status);

    [LoggerMessage(107, LogLevel.Warning, "{Count} notifications waited longer than {MaxAge} for Web Push and were dropped unpushed (Push:MaxAge)")]
    public static partial void Expired(ILogger logger, long count, TimeSpan maxAge);

    [LoggerMessage(108, LogLevel.Warning, "Push of notification {NotificationId} failed before sending; tried again when its claim ends")]
    public static partial void Failed(ILogger logger, Exception exception, string notificationId);

    [LoggerMessage(109, LogLevel.Warning, "Could not claim or complete notifications in the push outbox; trying again")]
    public static partial void ClaimFailed(ILogger logger, Exception exception);

    [LoggerMessage(110, LogLevel.Warning, "No wake-up from Redis for Web Push; the store is polled every Push:PollInterval")]
    public static partial void WakeUpUnavailable(ILogger logger, Exception exception);
}
