using Microsoft.Extensions.Logging;

namespace Notify.Core.Storage;

internal static partial class StoreLog
{
    [LoggerMessage(1, LogLevel.Information, "Notification store {Backend} ready ({Location})")]
    public static partial void StoreReady(ILogger logger, string backend, string location);

    [LoggerMessage(2, LogLevel.Warning, "Notification store not reachable yet; retrying in {Delay}")]
    public static partial void InitializeRetry(ILogger logger, TimeSpan delay, Exception exception);

    [LoggerMessage(3, LogLevel.Information, "Retention deleted {Count} notifications older than {OlderThan} and {Capped} beyond {KeepPerUser} per user")]
    public static partial void RetentionApplied(ILogger logger, long count, DateTimeOffset olderThan, long capped, int? keepPerUser);
}
