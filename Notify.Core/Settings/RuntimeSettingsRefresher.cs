using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Notify.Core.Settings;

/// <summary>Re-reads the stored runtime settings every <see cref="RuntimeSettingsOptions.RefreshInterval"/>.</summary>
internal sealed class RuntimeSettingsRefresher(
    RuntimeSettings settings,
    IOptions<RuntimeSettingsOptions> options,
    TimeProvider time,
    ILogger<RuntimeSettingsRefresher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RefreshInterval, time);
        var applied = -1L;
        do
        {
            try
            {
                var view = await settings.RefreshAsync(stoppingToken);
                if (view.Version != applied)
                {
                    applied = view.Version;
                    SettingsLog.Applied(logger, applied);
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                SettingsLog.RefreshFailed(logger, ex);
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
