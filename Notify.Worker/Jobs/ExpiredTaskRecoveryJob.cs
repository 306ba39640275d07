using Hangfire;
using Notify.Worker.Queue;

namespace Notify.Worker.Jobs;

/// <summary>
/// Recurring job (<see cref="WorkerOptions.RecoveryCron"/>): <see cref="ExpiredTaskRecovery"/> on a schedule
/// shown in the dashboard, beside the sweep every dispatcher runs itself. It takes no Hangfire lock (runs
/// may overlap safely), so a Worker killed while running it never holds recovery up.
/// </summary>
public sealed class ExpiredTaskRecoveryJob
{
    private readonly ExpiredTaskRecovery _recovery;

    public ExpiredTaskRecoveryJob(ExpiredTaskRecovery recovery) => _recovery = recovery;

    /// <summary>Recovers every expired task; returns how many changed.</summary>
    [AutomaticRetry(Attempts = 0)]
    public Task<int> RunAsync(CancellationToken cancellationToken) => _recovery.RunAsync(cancellationToken);
}
