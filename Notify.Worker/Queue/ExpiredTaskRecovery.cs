using Microsoft.Extensions.Options;
using Notify.Core.Tasks;
using Notify.Worker.Handlers;

namespace Notify.Worker.Queue;

/// <summary>
/// Puts tasks whose lease expired (their worker died) back in the queue at their original place, or fails
/// those out of attempts, and tells the owner and the admins. Every dispatcher runs it every third of the
/// visibility timeout, and the Hangfire job <c>queue-recover-expired</c> on its schedule: each task's
/// recovery is one atomic step that acts only while the lease is still expired, so runs may overlap
/// anywhere, and none of them waits for a lock a dead Worker could still hold.
/// </summary>
public sealed class ExpiredTaskRecovery(
    ITaskQueue queue,
    QueueSettings settings,
    TaskNotifier notifier,
    TaskHandlerRegistry handlers,
    IOptionsMonitor<WorkerOptions> options,
    ILogger<ExpiredTaskRecovery> logger)
{
    /// <summary>Recovers every expired task (in rounds of <see cref="WorkerOptions.RecoveryBatchSize"/>); returns how many changed.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var batch = options.CurrentValue.RecoveryBatchSize;
        int requeued = 0, failed = 0;
        while (true)
        {
            var transitions = await queue.RecoverExpiredAsync(settings.Current, batch, cancellationToken);
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
                var notifyOwner = t.TaskKind is null || handlers.Find(t.TaskKind)?.NotifyOwner != false;
                await notifier.OnTransitionAsync(t, notifyOwner, cancellationToken);
            }
            if (transitions.Count < batch)
            {
                break;
            }
        }
        if (requeued + failed > 0)
        {
            WorkerLog.Recovered(logger, requeued, failed);
        }
        return requeued + failed;
    }
}
