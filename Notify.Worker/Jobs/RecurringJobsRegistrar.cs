using Hangfire;
using Microsoft.Extensions.Options;

namespace Notify.Worker.Jobs;

/// <summary>
/// Registers (adds or updates) the recurring jobs in Hangfire's storage at start, and again whenever
/// the Worker options change. Keeps retrying in the background while Redis is unreachable, so start-up
/// never waits for it.
/// </summary>
internal sealed class RecurringJobsRegistrar(
    IRecurringJobManager jobs,
    IOptionsMonitor<WorkerOptions> options,
    TimeProvider time,
    ILogger<RecurringJobsRegistrar> logger) : BackgroundService
{
    public const string RecoveryJobId = "queue-recover-expired";
    public const string CleanupJobId = "notifications-cleanup";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var changed = Channel();
        using var subscription = options.OnChange(_ => changed.Writer.TryWrite(true));
        var delay = TimeSpan.FromMilliseconds(200);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                Register(options.CurrentValue);
                delay = TimeSpan.FromMilliseconds(200);
                await changed.Reader.ReadAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                WorkerLog.RecurringJobsDeferred(logger, ex, delay);
                try
                {
                    await Task.Delay(delay, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
            }
        }
    }

    private void Register(WorkerOptions o)
    {
        var utc = new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc };
        jobs.AddOrUpdate<ExpiredTaskRecoveryJob>(RecoveryJobId, job => job.RunAsync(CancellationToken.None), o.RecoveryCron, utc);
        jobs.AddOrUpdate<NotificationCleanupJob>(CleanupJobId, job => job.RunAsync(CancellationToken.None), o.CleanupCron, utc);
    }

    private static System.Threading.Channels.Channel<bool> Channel() =>
        System.Threading.Channels.Channel.CreateBounded<bool>(new System.Threading.Channels.BoundedChannelOptions(1)
        {
            FullMode = System.Threading.Channels.BoundedChannelFullMode.DropWrite,
        });
}
