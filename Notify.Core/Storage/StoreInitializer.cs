using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Notify.Core.Notifications;
using Notify.Core.Preferences;
using Notify.Core.Settings;

namespace Notify.Core.Storage;

/// <summary>
/// Creates the store's schema and indexes before the service takes traffic, retrying while the database
/// is not reachable yet (for up to <see cref="StoreOptions.InitializeTimeout"/>), then failing start-up.
/// </summary>
internal sealed class StoreInitializer(
    INotificationStore notifications,
    ISettingsStore settings,
    IPreferencesStore preferences,
    IOptions<StoreOptions> options,
    TimeProvider time,
    ILogger<StoreInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + options.Value.InitializeTimeout;
        var delay = TimeSpan.FromMilliseconds(250);
        while (true)
        {
            try
            {
                await notifications.InitializeAsync(cancellationToken);
                await settings.InitializeAsync(cancellationToken);
                await preferences.InitializeAsync(cancellationToken);
                StoreLog.StoreReady(logger, notifications.GetType().Name);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException && time.GetUtcNow() + delay < deadline)
            {
                StoreLog.InitializeRetry(logger, delay, ex);
                await Task.Delay(delay, time, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
