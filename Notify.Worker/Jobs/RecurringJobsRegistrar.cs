using System.Threading.Channels;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Notify.Worker.Jobs;

/// <summary>
/// Keeps the recurring jobs registered in Hangfire's storage: at start, whenever the Worker options
/// change, whenever the Redis connection is restored, and every
/// <see cref="WorkerOptions.RecurringJobsInterval"/> in any case, because Redis can lose them without
/// any connection noticing (a flush, or a restart without persistence), and without them expired tasks
/// would never be recovered. Registration is idempotent (Hangfire's add-or-update), so every Worker may
/// do it. Keeps retrying in the background while Redis is unreachable, so start-up never waits for it.
/// </summary>
internal sealed class RecurringJobsRegistrar(
    IRecurringJobManager jobs,
    JobStorage storage,
    IConnectionMultiplexer redis,
    IOptionsMonitor<WorkerOptions> options,
    TimeProvider time,
    ILogger<RecurringJobsRegistrar> logger) : BackgroundService
{
    public const string RecoveryJobId = "queue-recover-expired";
    public const string CleanupJobId = "notifications-cleanup";

    private static readonly string[] JobIds = [RecoveryJobId, CleanupJobId];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        using var subscription = options.OnChange(_ => wake.Writer.TryWrite(true));
        EventHandler<ConnectionFailedEventArgs> restored = (_, _) => wake.Writer.TryWrite(true);
        redis.ConnectionRestored += restored;
        try
        {
            var retry = TimeSpan.FromMilliseconds(200);
            var registered = false;
            while (!stoppingToken.IsCancellationRequested)
            {
                TimeSpan next;
                try
                {
                    var missing = Register(options.CurrentValue);
                    if (registered && missing > 0)
                    {
                        WorkerLog.RecurringJobsRestored(logger, missing);
                    }
                    registered = true;
                    retry = TimeSpan.FromMilliseconds(200);
                    next = options.CurrentValue.RecurringJobsInterval;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    WorkerLog.RecurringJobsDeferred(logger, ex, retry);
                    next = retry;
                    retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
                }
                try
                {
                    await WaitAsync(wake.Reader, next, stoppingToken);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break;
                }
            }
        }
        finally
        {
            redis.ConnectionRestored -= restored;
        }
    }

    /// <summary>Adds or updates both jobs; returns how many of them were missing from storage before.</summary>
    private int Register(WorkerOptions o)
    {
        int missing;
        using (var connection = storage.GetConnection())
        {
            missing = connection.GetRecurringJobs(JobIds).Count(job => job.Removed);
        }
        var utc = new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc };
        jobs.AddOrUpdate<ExpiredTaskRecoveryJob>(RecoveryJobId, job => job.RunAsync(CancellationToken.None), o.RecoveryCron, utc);
        jobs.AddOrUpdate<NotificationCleanupJob>(CleanupJobId, job => job.RunAsync(CancellationToken.None), o.CleanupCron, utc);
        return missing;
    }

    /// <summary>Returns after <paramref name="timeout"/> or as soon as something asks for a registration.</summary>
    private async Task WaitAsync(ChannelReader<bool> wake, TimeSpan timeout, CancellationToken stoppingToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var delay = Task.Delay(timeout, time, cts.Token);
        var signal = wake.WaitToReadAsync(cts.Token).AsTask();
        await Task.WhenAny(delay, signal);
        await cts.CancelAsync();
        wake.TryRead(out _);
        stoppingToken.ThrowIfCancellationRequested();
    }
}
