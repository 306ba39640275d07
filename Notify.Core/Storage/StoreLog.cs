using Microsoft.Extensions.Logging;

namespace Notify.Core.Storage;

internal static partial class StoreLog
{
    [LoggerMessage(1, LogLevel.Information, "Notification store {Store} ready")]
    public static partial void StoreReady(ILogger logger, string store);

    [LoggerMessage(2, LogLevel.Warning, "Notification store not reachable yet; retrying in {Delay}")]
    public static partial void InitializeRetry(ILogger logger, TimeSpan delay, Exception exception);

    [LoggerMessage(3, LogLevel.Information, "SQLite store file {Path}")]
    public static partial void SqliteFile(ILogger logger, string path);
}
