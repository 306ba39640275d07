using Hangfire;
using Microsoft.Extensions.Options;
using Notify.Core.Notifications;
using Notify.Core.Settings;

namespace Notify.Worker.Jobs;

/// <summary>
/// Recurring job (<see cref="WorkerOptions.CleanupCron"/>): the store's retention. Deletes notifications
/// older than <c>Retention:Days</c> and, per user, all but the newest <c>Retention:KeepPerUser</c>
/// (0: no per-user cap). Both are runtime settings, read at each run.
/// </summary>
public sealed class NotificationCleanupJob
{
    private readonly INotificationStore _store;
    private readonly RuntimeSettings _settings;
    private readonly IOptionsMonitor<WorkerOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<NotificationCleanupJob> _logger;

    public NotificationCleanupJob(INotificationStore store, RuntimeSettings settings, IOptionsMonitor<WorkerOptions> options, TimeProvider time, ILogger<NotificationCleanupJob> logger)
    {
        _store = store;
        _settings = settings;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>Applies retention once; returns how many notifications were deleted.</summary>
    [AutomaticRetry(Attempts = 2)]
    [DisableConcurrentExecution(600)]
    public async Task<long> RunAsync(CancellationToken cancellationToken)
    {
        var days = _settings.GetInt32(RuntimeSettingKeys.RetentionDays);
        var keep = _settings.GetInt32(RuntimeSettingKeys.RetentionKeepPerUser);
        var deleted = await _store.ApplyRetentionAsync(
            _time.GetUtcNow() - TimeSpan.FromDays(days),
            keep == 0 ? null : keep,
            _options.CurrentValue.CleanupBatchSize,
            cancellationToken);
        WorkerLog.CleanedUp(_logger, deleted, days, keep);
        return deleted;
    }
}
