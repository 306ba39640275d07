using Hangfire;
using Microsoft.Extensions.Options;
using Notify.Core.Tasks;
using Notify.Worker.Handlers;
using Notify.Worker.Queue;

namespace Notify.Worker.Jobs;

/// <summary>
/// Recurring job (<see cref="WorkerOptions.RecoveryCron"/>): tasks whose lease expired (their worker
/// died) go back to the queue at their original place, or fail after <c>Queue:MaxAttempts</c> starts,
/// with the owner and the admins told. Safe to run on several workers at once: each task's recovery
/// is one atomic step that acts only while the lease is still expired.
/// </summary>
public sealed class ExpiredTaskRecoveryJob
{
    private readonly ITaskQueue _queue;
    private readonly QueueSettings _settings;
    private readonly TaskNotifier _notifier;
    private readonly TaskHandlerRegistry _handlers;
    private readonly IOptionsMonitor<WorkerOptions> _options;
    private readonly ILogger<ExpiredTaskRecoveryJob> _logger;

    public ExpiredTaskRecoveryJob(ITaskQueue queue, QueueSettings settings, TaskNotifier notifier, TaskHandlerRegistry handlers, IOptionsMonitor<WorkerOptions> options, ILogger<ExpiredTaskRecoveryJob> logger)
    {
        _queue = queue;
        _settings = settings;
        _notifier = notifier;
        _handlers = handlers;
        _options = options;
        _logger = logger;
    }

    /// <summary>Recovers every expired task (in rounds of <see cref="WorkerOptions.RecoveryBatchSize"/>); returns how many changed.</summary>
    [AutomaticRetry(Attempts = 0)]
    [DisableConcurrentExecution(60)]
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var batch = _options.CurrentValue.RecoveryBatchSize;
        int requeued = 0, failed = 0;
        while (true)
        {
            var transitions = await _queue.RecoverExpiredAsync(_settings.Current, batch, cancellationToken);
            foreach (var t in transitions)
            {
                if (t.Kind == TransitionKind.Requeued)
                {
                    requeued++;
                }
                else
                {
                    failed++;
                }
                var notifyOwner = t.TaskKind is null || _handlers.Find(t.TaskKind)?.NotifyOwner != false;
                await _notifier.OnTransitionAsync(t, notifyOwner, cancellationToken);
            }
            if (transitions.Count < batch)
            {
                break;
            }
        }
        if (requeued + failed > 0)
        {
            WorkerLog.Recovered(_logger, requeued, failed);
        }
        return requeued + failed;
    }
}
