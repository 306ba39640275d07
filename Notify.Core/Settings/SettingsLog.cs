using Microsoft.Extensions.Logging;

namespace Notify.Core.Settings;

internal static partial class SettingsLog
{
    [LoggerMessage(1, LogLevel.Information, "Runtime settings version {Version} stored (changed: {Keys})")]
    public static partial void Updated(ILogger logger, long version, string keys);

    [LoggerMessage(2, LogLevel.Warning, "Stored runtime setting {Key} = '{Value}' is not valid any more; using the configured value")]
    public static partial void StoredValueIgnored(ILogger logger, string key, string value);

    [LoggerMessage(3, LogLevel.Warning, "Reading the runtime settings failed; keeping the last values")]
    public static partial void RefreshFailed(ILogger logger, Exception exception);

    [LoggerMessage(4, LogLevel.Information, "Runtime settings version {Version} applied")]
    public static partial void Applied(ILogger logger, long version);
}
