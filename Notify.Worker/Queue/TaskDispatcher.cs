using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Notify.Core.Tasks;
using Notify.Worker.Handlers;

namespace Notify.Worker.Queue;

/// <summary>
/// The long-running loop that takes tasks off the queue and runs their handlers. It dequeues whenever
/// this process has a free slot and the queue signals work (Redis pub/sub: a task queued or a slot freed
/// anywhere), looking anyway every <see cref="WorkerOptions.PollInterval"/> in case a signal was lost.
/// Running tasks' leases are renewed every third of the visibility timeout, and as often it recovers
/// expired leases of any Worker (<see cref="ExpiredTaskRecovery"/>); a lost lease or a cancel
/// request fires the handler's token. A run whose lease can no longer be proven (no renewal or progress
/// report has succeeded since the last deadline it was granted, e.g. while Redis is unreachable) is
/// stopped at that deadline, because from then on another worker may be running the task. Runs are
/// kept by lease token, not task id: a run that lost its lease and is still unwinding lives beside the
/// new run of the same task without touching it. At shutdown running tasks get
/// <see cref="WorkerOptions.ShutdownGrace"/> to finish, then their leases go back to the queue.
/// </summary>
internal sealed class TaskDispatcher(
    ITaskQueue queue,
    IProgressStore progress,
    TaskHandlerRegistry handlers,
    TaskNotifier notifier,
    ExpiredTaskRecovery recovery,
    QueueSettings settings,
    IOptionsMonitor<WorkerOptions> options,
    TimeProvider time,
    ILogger<TaskDispatcher> logger) : BackgroundService
{
    private static readonly TimeSpan QueueRetryDelay = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxQueueRetryDelay = TimeSpan.FromSeconds(2);
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    // Keyed by lease token: one task can have two runs here for a moment (an old one unwinding, a new one started).
    private readonly ConcurrentDictionary<string, Run> _running = new(StringComparer.Ordinal);

    /// <summary>This process's id in leases: host, process id and a random suffix.</summary>
    public string WorkerId { get; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";

    /// <summary>Tasks running in this process now.</summary>
    public int RunningCount => _running.Count;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        WorkerLog.DispatcherStarted(logger, WorkerId, options.CurrentValue.MaxParallelTasks, string.Join(',', handlers.Kinds));
        IAsyncDisposable? subscription = null;
        var heartbeat = Task.Run(() => RenewLoopAsync(stoppingToken), CancellationToken.None);
        var sweep = Task.Run(() => SweepLoopAsync(stoppingToken), CancellationToken.None);
        var backoff = TimeSpan.FromMilliseconds(100);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    subscription ??= await queue.SubscribeAsync(Signal, OnCancelRequested, stoppingToken);
                    var o = options.CurrentValue;
                    var asked = Math.Min(o.MaxParallelTasks - _running.Count, o.DequeueBatchSize);
                    var got = 0;
                    if (asked > 0)
                    {
                        var leases = await queue.DequeueAsync(WorkerId, asked, settings.Current, stoppingToken);
                        got = leases.Count;
                        foreach (var lease in leases)
                        {
                            Start(lease);
                        }
                    }
                    backoff = TimeSpan.FromMilliseconds(100);
                    if (got > 0 && got == asked)
                    {
                        continue;
                    }
                    await WaitForSignalAsync(o.PollInterval, stoppingToken);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception ex)
                {
                    WorkerLog.QueueUnavailable(logger, ex, backoff);
                    try
                    {
                        await Task.Delay(backoff, time, stoppingToken);
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
                }
            }
        }
        finally
        {
            await DrainAsync();
            if (subscription is not null)
            {
                try
                {
                    await subscription.DisposeAsync();
                }
                catch (ObjectDisposedException)
                {
                    // A host that failed to start disposes the Redis connection first: nothing left to unsubscribe.
                }
            }
            await heartbeat;
            await sweep;
        }
    }

    /// <summary>
    /// Recovers expired leases (of any Worker) every third of the visibility timeout, so a dead Worker's
    /// tasks come back within that of their lease's end whatever happens to Hangfire's scheduler.
    /// </summary>
    private async Task SweepLoopAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(settings.Current.VisibilityTimeout / 3, time, stoppingToken);
                await recovery.RunAsync(stoppingToken);
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                // Shutdown (also a failed start, where Redis may already be disposed): not an error.
                break;
            }
            catch (Exception ex)
            {
                WorkerLog.SweepFailed(logger, ex);
            }
        }
    }

    private void Signal() => _signal.Writer.TryWrite(true);

    private async Task WaitForSignalAsync(TimeSpan timeout, CancellationToken stoppingToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        cts.CancelAfter(timeout);
        try
        {
            await _signal.Reader.WaitToReadAsync(cts.Token);
            _signal.Reader.TryRead(out _);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
        }
    }

    private void OnCancelRequested(string taskId)
    {
        foreach (var run in _running.Values)
        {
            if (string.Equals(run.Lease.Task.Id, taskId, StringComparison.Ordinal))
            {
                run.Stop(StopReason.CancelRequested);
            }
        }
    }

    private void Start(TaskLease lease)
    {
        var run = new Run(lease, time);
        _running[lease.Token] = run;
        run.Completion = Task.Run(() => RunTaskAsync(run), CancellationToken.None);
    }

    private async Task RunTaskAsync(Run run)
    {
        var lease = run.Lease;
        var task = lease.Task;
        var handler = handlers.Find(task.Kind);
        TaskTransition? transition = null;
        try
        {
            // Run the attempt, then settle it: ack, hand back, or (lease lost) leave it to its new holder.
            var (outcome, error, result, failure) = await AttemptAsync(run, handler);
            try
            {
                transition = await WhileLeaseHoldsAsync(run, async () => run.Reason switch
                {
                    StopReason.LeaseLost => null,
                    StopReason.Shutdown when outcome != TaskOutcome.Completed => await queue.ReleaseAsync(lease, CancellationToken.None),
                    _ => await queue.AckAsync(lease, outcome, error, result, retryable: handler is not null && outcome == TaskOutcome.Failed, CancellationToken.None),
                }, CancellationToken.None);
            }
            catch (Exception ackError)
            {
                // The lease expires and recovery puts the task back: retried, never lost.
                WorkerLog.AckFailed(logger, ackError, task.Id);
            }
            if (run.Reason == StopReason.LeaseLost)
            {
                WorkerLog.LeaseLost(logger, task.Id);
            }
            else if (run.Reason == StopReason.LeaseUnproven)
            {
                WorkerLog.LeaseUnproven(logger, task.Id, run.ProvenUntil);
            }
            else if (transition is { Kind: TransitionKind.Requeued } && failure is not null)
            {
                WorkerLog.TaskRetry(logger, failure, task.Id, task.Kind, task.Attempts);
            }
        }
        finally
        {
            _running.TryRemove(new KeyValuePair<string, Run>(lease.Token, run));
            run.Dispose();
            Signal();
        }

        if (transition is { Kind: TransitionKind.Finished })
        {
            WorkerLog.TaskFinished(logger, task.Id, task.Kind, transition.Status.ToString(), transition.Attempts);
        }
        if (transition is not null && transition.Kind != TransitionKind.None)
        {
            await notifier.OnTransitionAsync(transition, handler?.NotifyOwner ?? true, CancellationToken.None);
        }
    }

    /// <summary>
    /// Runs one queue operation of <paramref name="run"/> (a progress report, the ack or the hand-back),
    /// retrying while the queue is unreachable (a Redis failover takes seconds) for as long as the lease is
    /// proven, so a short outage neither fails the handler nor starts a finished run again. Retrying is
    /// safe: the scripts act only on the lease token this run holds.
    /// </summary>
    private async Task<T> WhileLeaseHoldsAsync<T>(Run run, Func<Task<T>> operation, CancellationToken cancellationToken)
    {
        var delay = QueueRetryDelay;
        while (true)
        {
            try
            {
                return await operation();
            }
            catch (TaskQueueUnavailableException ex) when (time.GetUtcNow() + delay < run.ProvenUntil)
            {
                WorkerLog.QueueRetry(logger, ex, run.Lease.Task.Id, delay);
                await Task.Delay(delay, time, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxQueueRetryDelay.Ticks));
            }
        }
    }

    private async Task<(TaskOutcome Outcome, string? Error, JsonElement? Result, Exception? Failure)> AttemptAsync(Run run, ITaskHandler? handler)
    {
        var lease = run.Lease;
        var task = lease.Task;
        try
        {
            WorkerLog.TaskStarted(logger, task.Id, task.Kind, task.Attempts);
            if (task.BatchId is not null)
            {
                await notifier.OnDequeuedAsync(lease, run.Token);
            }
            if (handler is null)
            {
                return (TaskOutcome.Failed, $"no handler for kind '{task.Kind}' on worker {WorkerId}", null, null);
            }

            var previous = task.Attempts > 1 ? await progress.GetTaskAsync(task.Id, run.Token) : null;
            var context = new TaskContext(lease, previous, time, (p, ct) => ReportAsync(run, p, ct));
            await ReportAsync(run, new TaskProgress
            {
                TaskId = task.Id,
                Status = TaskState.Running,
                Message = task.Attempts > 1 ? $"resumed (attempt {task.Attempts})" : "started",
                Step = previous?.Step ?? 0,
                TotalSteps = previous?.TotalSteps ?? 0,
                Progress = previous?.Progress ?? 0,
                ElapsedS = task.StartedAt is { } s ? Math.Round((time.GetUtcNow() - s).TotalSeconds, 3) : 0,
                Timestamp = time.GetUtcNow(),
            }, run.Token);

            var result = await handler.RunAsync(context, run.Token);
            return (TaskOutcome.Completed, null, result, null);
        }
        catch (Exception) when (run.Reason == StopReason.CancelRequested)
        {
            return (TaskOutcome.Cancelled, "cancelled", null, null);
        }
        catch (Exception ex) when (run.Reason == StopReason.LeaseUnproven)
        {
            return (TaskOutcome.Failed, "stopped: the lease could not be renewed before it expired (queue unreachable)", null, ex);
        }
        catch (Exception ex)
        {
            return (TaskOutcome.Failed, ex.Message, null, ex);
        }
    }

    private async Task ReportAsync(Run run, TaskProgress update, CancellationToken cancellationToken)
    {
        var visibility = settings.Current.VisibilityTimeout;
        var sentAt = time.GetUtcNow();
        var status = await WhileLeaseHoldsAsync(run, () => queue.ReportProgressAsync(run.Lease, update, visibility, cancellationToken), cancellationToken);
        Apply(run, status, sentAt + visibility);
        run.Token.ThrowIfCancellationRequested();
    }

    /// <summary>
    /// Acts on the queue's answer about one lease: a held lease is proven until <paramref name="deadline"/>
    /// (the one the queue granted counts from a moment after <c>sentAt</c>, so this is never later).
    /// </summary>
    private static void Apply(Run run, LeaseStatus status, DateTimeOffset deadline)
    {
        switch (status)
        {
            case LeaseStatus.Lost:
                run.Stop(StopReason.LeaseLost);
                break;
            case LeaseStatus.CancelRequested:
                run.Prove(deadline);
                run.Stop(StopReason.CancelRequested);
                break;
            default:
                run.Prove(deadline);
                break;
        }
    }

    private async Task RenewLoopAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var visibility = settings.Current.VisibilityTimeout;
            try
            {
                await Task.Delay(visibility / 3, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            await RenewOnceAsync(visibility, stoppingToken);
        }
        // Keep leases alive while running tasks drain at shutdown.
        while (!_running.IsEmpty)
        {
            var visibility = settings.Current.VisibilityTimeout;
            await RenewOnceAsync(visibility, CancellationToken.None);
            await Task.WhenAny(Task.WhenAll(_running.Values.Select(r => r.Completion)), Task.Delay(visibility / 3, time));
        }
    }

    private async Task RenewOnceAsync(TimeSpan visibility, CancellationToken cancellationToken)
    {
        var runs = _running.Values.ToArray();
        if (runs.Length == 0)
        {
            return;
        }
        var sentAt = time.GetUtcNow();
        try
        {
            var statuses = await queue.RenewAsync([.. runs.Select(r => r.Lease)], visibility, cancellationToken);
            for (var i = 0; i < runs.Length && i < statuses.Count; i++)
            {
                Apply(runs[i], statuses[i], sentAt + visibility);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Not fatal by itself: each run stops on its own once its last proven deadline passes.
            WorkerLog.RenewFailed(logger, ex, runs.Length, visibility / 3);
        }
    }

    private async Task DrainAsync()
    {
        var runs = _running.Values.ToArray();
        if (runs.Length == 0)
        {
            return;
        }
        var all = Task.WhenAll(runs.Select(r => r.Completion));
        await Task.WhenAny(all, Task.Delay(options.CurrentValue.ShutdownGrace, time));
        var left = _running.Values.ToArray();
        foreach (var run in left)
        {
            run.Stop(StopReason.Shutdown);
        }
        if (left.Length > 0)
        {
            await Task.WhenAny(Task.WhenAll(left.Select(r => r.Completion)), Task.Delay(TimeSpan.FromSeconds(5), time));
            WorkerLog.Released(logger, left.Length);
        }
    }

    private enum StopReason
    {
        None,
        CancelRequested,
        LeaseLost,
        LeaseUnproven,
        Shutdown,
    }

    /// <summary>
    /// One attempt of one task in this process: its lease, the token its handler watches, and a timer
    /// that stops it when the lease's last proven deadline passes without a newer proof.
    /// </summary>
    private sealed class Run : IDisposable
    {
        private readonly CancellationTokenSource _cts = new();
        private readonly TimeProvider _time;
        private readonly ITimer _expiry;
        private readonly Lock _gate = new();
        private DateTimeOffset _provenUntil;
        private int _reason;

        public Run(TaskLease lease, TimeProvider time)
        {
            Lease = lease;
            _time = time;
            _provenUntil = lease.ExpiresAt;
            _expiry = time.CreateTimer(static state => ((Run)state!).Stop(StopReason.LeaseUnproven), this, Due(lease.ExpiresAt), Timeout.InfiniteTimeSpan);
        }

        public TaskLease Lease { get; }

        public Task Completion { get; set; } = Task.CompletedTask;

        public CancellationToken Token => _cts.Token;

        public StopReason Reason => (StopReason)Volatile.Read(ref _reason);

        /// <summary>The latest moment this worker is sure it still holds the lease.</summary>
        public DateTimeOffset ProvenUntil
        {
            get
            {
                lock (_gate)
                {
                    return _provenUntil;
                }
            }
        }

        /// <summary>The queue confirmed the lease until at least <paramref name="deadline"/>.</summary>
        public void Prove(DateTimeOffset deadline)
        {
            lock (_gate)
            {
                if (deadline <= _provenUntil || Reason != StopReason.None)
                {
                    return;
                }
                _provenUntil = deadline;
                _expiry.Change(Due(deadline), Timeout.InfiniteTimeSpan);
            }
        }

        public void Stop(StopReason reason)
        {
            if (Interlocked.CompareExchange(ref _reason, (int)reason, 0) == 0)
            {
                try
                {
                    _cts.Cancel();
                }
                catch (ObjectDisposedException)
                {
                }
            }
        }

        public void Dispose()
        {
            _expiry.Dispose();
            _cts.Dispose();
        }

        private TimeSpan Due(DateTimeOffset deadline)
        {
            var due = deadline - _time.GetUtcNow();
            return due > TimeSpan.Zero ? due : TimeSpan.Zero;
        }
    }
}
