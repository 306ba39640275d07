using Microsoft.Extensions.Options;
using Notify.Core.Settings;

namespace Notify.Realtime.Options;

/// <summary>
/// The heartbeat and SSE timings in effect. A value an administrator stored through the runtime
/// settings (<c>PUT /api/admin/settings</c>) wins and applies without a restart, also to live
/// connections; otherwise <see cref="RealtimeOptions"/> and <see cref="SseOptions"/> decide.
/// </summary>
internal sealed class StreamSettings(IOptionsMonitor<RealtimeOptions> realtime, IOptionsMonitor<SseOptions> sse, RuntimeSettings runtime)
{
    /// <summary>
    /// A stored value wins; then <c>Realtime:HeartbeatIntervalSeconds</c> when configured (the catalogue's key, so
    /// the value <c>GET /api/admin/settings</c> shows is the one in effect); then <c>Realtime:HeartbeatInterval</c>.
    /// </summary>
    public TimeSpan WebSocketHeartbeat =>
        Stored(RuntimeSettingKeys.RealtimeHeartbeatInterval, RuntimeSettingSource.Configuration) is { } seconds
            ? TimeSpan.FromSeconds(seconds)
            : realtime.CurrentValue.HeartbeatInterval;

    public TimeSpan SseHeartbeat => Seconds(RuntimeSettingKeys.SseHeartbeatInterval, sse.CurrentValue.HeartbeatIntervalSeconds);

    public TimeSpan TaskPollTimeout => Seconds(RuntimeSettingKeys.SsePollTimeout, sse.CurrentValue.PollTimeoutSeconds);

    public TimeSpan TaskMaxIdle => Seconds(RuntimeSettingKeys.SseTaskMaxIdle, sse.CurrentValue.TaskMaxIdleSeconds);

    public TimeSpan BatchPollInterval => Seconds(RuntimeSettingKeys.SseBatchPollInterval, sse.CurrentValue.BatchPollIntervalSeconds);

    public TimeSpan BatchMaxIdle => Seconds(RuntimeSettingKeys.SseBatchMaxIdle, sse.CurrentValue.BatchMaxIdleSeconds);

    private TimeSpan Seconds(RuntimeSetting setting, int configured) => TimeSpan.FromSeconds(Stored(setting) ?? configured);

    private long? Stored(RuntimeSetting setting, RuntimeSettingSource? alsoFrom = null)
    {
        foreach (var value in runtime.Describe().Settings)
        {
            if (value.Key == setting.Key)
            {
                return value.Source == RuntimeSettingSource.Database || value.Source == alsoFrom ? value.Value : null;
            }
        }
        return null;
    }
}
