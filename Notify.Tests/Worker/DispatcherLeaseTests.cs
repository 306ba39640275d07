using Microsoft.Extensions.Time.Testing;
using Notify.Core.Tasks;
using Notify.Tests.Infrastructure;

namespace Notify.Tests.Worker;

/// <summary>
/// How the dispatcher keeps its runs and their leases, on a real Redis with the dispatcher's clock
/// moved by hand: two runs of one task side by side, and renewals that stop working.
/// </summary>
public sealed class DispatcherLeaseTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static readonly TimeSpan Visibility = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Dispatcher_LostRunStillUnwinding_NewRunOfTheSameTaskIsRenewedAndCancellable()
    {
        await using var host = await InProcessDispatcher.StartAsync(redis, Visibility);
        var queue = host.Context.Queue;
        var task = await queue.EnqueueAsync("gina-" + Guid.NewGuid().ToString("N"), "gated", null, Ct);
        var first = await host.Handler.StartedAsync(1);

        // Another worker, whose clock is past the lease, recovers the task: it is queued again and this
        // dispatcher (woken by the requeue) starts a second run of it while the first still runs.
        var later = new RedisTaskQueue(host.Context.Redis, host.Context.Channels,
            new StaticOptions<QueueOptions>(host.Context.Options), new FakeTimeProvider(host.Time.GetUtcNow() + TimeSpan.FromHours(1)));
        var recovered = await later.RecoverExpiredAsync(host.Context.Limits, 10, Ct);
        Assert.Equal(TransitionKind.Requeued, Assert.Single(recovered).Kind);
        var second = await host.Handler.StartedAsync(2);

        // The next renewal tells the first run its lease is gone; it unwinds slowly, then ends.
        await AdvanceUntilAsync(host.Time, () => Task.FromResult(first.Cancelled.Task.IsCompleted), "the first run told its lease is lost");
        Assert.False(second.Token.IsCancellationRequested);
        first.Release.TrySetResult();
        await first.Returned.Task.WaitAsync(Patience, Ct);
        await WorkerCluster.WaitUntilAsync(() => Task.FromResult(host.Dispatcher.RunningCount <= 1), Patience, "the first run removed");
        Assert.Equal(1, host.Dispatcher.RunningCount);

        // The second run is still this dispatcher's: its lease is renewed...
        var deadline = await host.DeadlineAsync(task.Id);
        await AdvanceUntilAsync(host.Time, async () => await host.DeadlineAsync(task.Id) > deadline, "the second run's lease renewed");
        Assert.False(second.Token.IsCancellationRequested);

        // ...and a cancel reaches its handler.
        Assert.Equal(TransitionKind.CancelRequested, (await queue.CancelAsync(task.Id, Ct)).Kind);
        await second.Cancelled.Task.WaitAsync(Patience, Ct);
        second.Release.TrySetResult();
        await WorkerCluster.WaitUntilAsync(async () => (await queue.GetAsync(task.Id, Ct))!.Status == TaskState.Cancelled, Patience, "task cancelled");
        Assert.Equal(2, (await queue.GetAsync(task.Id, Ct))!.Attempts);
    }

    [Fact]
    public async Task Dispatcher_RenewalsFail_HandlerStopsExactlyWhenTheLeaseCouldHaveExpired()
    {
        // A Redis of its own: this test pauses it.
        var own = new RedisServer();
        await own.InitializeAsync();
        try
        {
            await using var host = await InProcessDispatcher.StartAsync(own, Visibility);
            var queue = host.Context.Queue;
            var task = await queue.EnqueueAsync("hal-" + Guid.NewGuid().ToString("N"), "gated", null, Ct);
            var attempt = await host.Handler.StartedAsync(1);
            // The clock has not moved since the dequeue: the lease is proven until exactly now + visibility.
            var provenUntil = host.Time.GetUtcNow() + Visibility;

            // Redis stops answering: every renewal hangs, then fails. Until the proven deadline the handler
            // still holds the task; from that moment another worker may take it, so it is stopped.
            await host.Context.Redis.GetDatabase().ExecuteAsync("CLIENT", "PAUSE", "6000", "ALL");
            host.Time.Advance(provenUntil - host.Time.GetUtcNow() - TimeSpan.FromMilliseconds(100));
            Assert.False(attempt.Token.IsCancellationRequested, "stopped while the lease was still proven");
            host.Time.Advance(TimeSpan.FromMilliseconds(200));
            Assert.True(attempt.Token.IsCancellationRequested, "still running after the lease could have expired");

            // Once Redis answers again, the stopped attempt is settled (by its ack, or by the sweep of an
            // expired lease, whichever comes first) as a failed attempt: not lost.
            await WorkerCluster.WaitUntilAsync(async () =>
            {
                try
                {
                    await host.Context.Redis.GetDatabase().PingAsync();
                    return true;
                }
                catch (Exception ex) when (ex is StackExchange.Redis.RedisException or TimeoutException)
                {
                    return false;
                }
            }, Patience, "Redis answers again");
            attempt.Release.TrySetResult();
            await WorkerCluster.WaitUntilAsync(async () => (await queue.GetAsync(task.Id, Ct))!.Error is not null, Patience, "attempt settled");
            var record = (await queue.GetAsync(task.Id, Ct))!;
            Assert.True(record.Error!.Contains("lease could not be renewed", StringComparison.Ordinal) || record.Error.Contains("worker lost", StringComparison.Ordinal), record.Error);
            Assert.Contains(record.Status, new[] { TaskState.Queued, TaskState.Running });
        }
        finally
        {
            await own.DisposeAsync();
        }
    }

    /// <summary>Moves the dispatcher's clock forward in small steps until <paramref name="condition"/> holds.</summary>
    private static async Task AdvanceUntilAsync(FakeTimeProvider time, Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out after {Patience} waiting for: {what}");
            }
            time.Advance(TimeSpan.FromMilliseconds(500));
            await Task.Delay(20);
        }
    }
}
