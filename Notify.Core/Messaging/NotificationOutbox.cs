using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Notify.Core.Json;
using Notify.Core.Notifications;
using StackExchange.Redis;

namespace Notify.Core.Messaging;

/// <summary>
/// The live publication of stored notifications, with the store as its outbox. Every writer (the Api,
/// the Worker) stores a notification unpublished, then calls <see cref="PublishAsync"/>: it publishes on
/// the user's topic and marks the row published (in batches, in the background). When Redis is down the
/// publish is not attempted, and when it fails the row simply stays unpublished; either way the caller's
/// request succeeds, because the notification is stored. (On a Redis Cluster "down" includes the user's shard:
/// its primary not connected.) The rows left waiting are published in id order
/// as soon as Redis is back (the connection restored, or every <see cref="OutboxOptions.RetryInterval"/>),
/// by one process at a time (a Redis lock). A row stored by a writer that died before publishing is found
/// by the sweep (<see cref="OutboxOptions.SweepInterval"/>) and published too.
/// </summary>
/// <remarks>
/// A notification may be published twice (a drain races its writer's own publish, or marking it failed):
/// Realtime drops a repeated id it passed on recently, and clients de-duplicate by id. Connected clients
/// never wait for the outbox after a Redis outage: Realtime catches them up from the store when its
/// subscriptions are restored; the outbox matters when a publish failed while Realtime's subscriptions
/// stayed up.
/// </remarks>
public sealed class NotificationOutbox(
    INotificationStore store,
    IMessageBus bus,
    IConnectionMultiplexer redis,
    RedisChannels channels,
    IOptionsMonitor<OutboxOptions> options,
    TimeProvider time,
    ILogger<NotificationOutbox> logger) : BackgroundService
{
    /// <summary>Longest a drain holds the outbox lock without renewing it (a drain renews it after every batch).</summary>
    private static readonly TimeSpan LockTime = TimeSpan.FromSeconds(30);

    /// <summary>Longest the service waits at shutdown to mark what it published.</summary>
    private static readonly TimeSpan FinalMarkTimeout = TimeSpan.FromSeconds(5);

    private readonly Channel<NotificationKey> _published = Channel.CreateBounded<NotificationKey>(
        new BoundedChannelOptions(10_000) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Channel<bool> _drainRequests = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly string _lockOwner = Guid.NewGuid().ToString("N");
    private readonly Lock _sync = new();
    // Users whose notifications this process left for a drain that has not covered them yet (guarded by _sync).
    private HashSet<string> _waiting = new(StringComparer.Ordinal);
    // Users whose notifications were left for a drain since the current drain run started (guarded by _sync).
    private readonly HashSet<string> _deferredDuringRun = new(StringComparer.Ordinal);
    // Completes when the next drain run that starts has finished (guarded by _sync).
    private TaskCompletionSource _nextRun = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Publishes a notification <see cref="INotificationStore.CreateAsync"/> stored, and takes it out of
    /// the outbox. Never throws for a bus failure: the notification then waits in the outbox. Runs to the
    /// end even when the caller's request is cancelled, since the notification is already stored.
    /// </summary>
    /// <remarks>
    /// While this process has notifications of the same user waiting (Redis was down, a publish failed, the
    /// user's shard is failing over), a new one is not published directly either, or it would overtake them:
    /// it waits for the next drain, which publishes everything waiting in id order (at most five
    /// <see cref="OutboxOptions.RetryInterval"/>s; while its Redis server is unreachable it does not wait at
    /// all). Other users' notifications go out directly meanwhile. Direct publishing resumes for a user after
    /// a drain that covered all of that user's notifications.
    /// </remarks>
    public async Task PublishAsync(Notification notification)
    {
        ArgumentNullException.ThrowIfNull(notification);
        var connected = redis.IsConnected && CanReach(BusTopic.User(notification.UserId));
        Task? drained = null;
        var first = false;
        lock (_sync)
        {
            if (!connected || _waiting.Contains(notification.UserId))
            {
                first = _waiting.Count == 0;
                drained = Defer(notification.UserId);
            }
        }
        if (drained is not null)
        {
            if (first)
            {
                OutboxLog.Holding(logger, connected ? "earlier publications wait" : "Redis is not connected");
            }
            OutboxLog.Deferred(logger, notification.Id, notification.UserId);
            RequestDrain();
            if (connected)
            {
                await WaitQuietlyAsync(drained, options.CurrentValue.RetryInterval * 5);
            }
            return;
        }
        try
        {
            await bus.PublishAsync(BusTopic.User(notification.UserId), Frames.Serialize("notification", notification), CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            OutboxLog.PublishFailed(logger, ex, notification.Id, notification.UserId);
            lock (_sync)
            {
                Defer(notification.UserId);
            }
            RequestDrain();
            return;
        }
        // When the queue is full the row stays unpublished and the sweep publishes it once more.
        _published.Writer.TryWrite(new NotificationKey(notification.UserId, notification.Id));
    }

    /// <summary>
    /// Publishes a frame that is not kept anywhere (an inbox change: read, read all, deleted), best
    /// effort: false at once when Redis is not connected or the publish failed. Never throws for a bus failure.
    /// </summary>
    public async Task<bool> TryPublishAsync(BusTopic topic, ReadOnlyMemory<byte> frame)
    {
        if (!redis.IsConnected || !CanReach(topic))
        {
            return false;
        }
        try
        {
            await bus.PublishAsync(topic, frame, CancellationToken.None);
            return true;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            OutboxLog.BestEffortFailed(logger, ex, topic.Kind, topic.Key);
            return false;
        }
    }

    /// <summary>
    /// Whether the Redis server that carries <paramref name="topic"/>'s channel is connected (on a cluster, the
    /// primary of the channel's slot; a topic on classic pub/sub goes through any node). A publish to a server
    /// that is not would wait for the client's timeout (5 s) before failing; the outbox leaves the notification
    /// waiting at once instead.
    /// </summary>
    private bool CanReach(BusTopic topic) => !RedisChannels.IsSharded(topic) || redis.SlotOwnerConnected(channels.For(topic));

    /// <summary>Records a notification of <paramref name="userId"/> left for the next drain (under <see cref="_sync"/>); returns that drain's completion.</summary>
    private Task Defer(string userId)
    {
        _waiting.Add(userId);
        _deferredDuringRun.Add(userId);
        return _nextRun.Task;
    }

    private async Task WaitQuietlyAsync(Task task, TimeSpan timeout)
    {
        try
        {
            await task.WaitAsync(timeout, time);
        }
        catch (TimeoutException)
        {
            // Still waiting in the outbox; a later drain publishes it.
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        redis.ConnectionRestored += OnConnectionRestored;
        try
        {
            await Task.WhenAll(MarkPublishedAsync(stoppingToken), DrainAsync(stoppingToken));
        }
        finally
        {
            redis.ConnectionRestored -= OnConnectionRestored;
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Interactive)
        {
            RequestDrain();
        }
    }

    private void RequestDrain() => _drainRequests.Writer.TryWrite(true);

    /// <summary>Marks published rows in batches (one store write for many creates).</summary>
    private async Task MarkPublishedAsync(CancellationToken stoppingToken)
    {
        var reader = _published.Reader;
        var batch = new List<NotificationKey>();
        try
        {
            while (await reader.WaitToReadAsync(stoppingToken))
            {
                await MarkBatchAsync(reader, batch, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        using var final = new CancellationTokenSource(FinalMarkTimeout, time);
        while (reader.TryPeek(out _) && !final.IsCancellationRequested)
        {
            await MarkBatchAsync(reader, batch, final.Token);
        }
    }

    private async Task MarkBatchAsync(ChannelReader<NotificationKey> reader, List<NotificationKey> batch, CancellationToken cancellationToken)
    {
        batch.Clear();
        var size = options.CurrentValue.BatchSize;
        while (batch.Count < size && reader.TryRead(out var key))
        {
            batch.Add(key);
        }
        try
        {
            await store.MarkPublishedAsync(batch, cancellationToken);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Also a cancelled final batch at shutdown: those rows are published once more later.
            OutboxLog.MarkFailed(logger, ex, batch.Count);
        }
    }

    /// <summary>Publishes waiting rows when asked to (a failure, a reconnect) and sweeps for abandoned ones.</summary>
    private async Task DrainAsync(CancellationToken stoppingToken)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var nextSweep = time.GetUtcNow() + options.CurrentValue.SweepInterval;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                if (await WaitForRequestAsync(nextSweep - time.GetUtcNow(), stoppingToken))
                {
                    _drainRequests.Reader.TryRead(out _);
                    await DrainRunAsync(stoppingToken);
                }
                if (time.GetUtcNow() >= nextSweep)
                {
                    seen = await SweepAsync(seen, stoppingToken);
                    nextSweep = time.GetUtcNow() + options.CurrentValue.SweepInterval;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// One drain of everything waiting. Notifications deferred before it starts are covered by it; one
    /// deferred while it runs may have been stored after its read, so direct publishing resumes only
    /// after a run during which nothing was deferred.
    /// </summary>
    private async Task DrainRunAsync(CancellationToken stoppingToken)
    {
        TaskCompletionSource run;
        lock (_sync)
        {
            run = _nextRun;
            _nextRun = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _deferredDuringRun.Clear();
        }
        // While Redis is down there is nothing to try: the restored connection asks for a drain.
        if (redis.IsConnected && await TryDrainAsync(rows => rows, stoppingToken) is { } blocked)
        {
            bool again;
            lock (_sync)
            {
                again = _deferredDuringRun.Count > 0;
                // Still waiting: users deferred while this run read (their rows may be newer than its read),
                // and users whose shard could not be reached (their rows stay, and keep their order).
                _waiting = new HashSet<string>(_deferredDuringRun, StringComparer.Ordinal);
                _waiting.UnionWith(blocked);
            }
            run.TrySetResult();
            if (blocked.Count > 0)
            {
                OutboxLog.ShardsUnreachable(logger, blocked.Count, options.CurrentValue.RetryInterval);
                await Task.Delay(options.CurrentValue.RetryInterval, time, stoppingToken);
                RequestDrain();
            }
            else if (again)
            {
                RequestDrain();
            }
            return;
        }
        // Not drained (Redis still down, or another process is draining): this run's waiters wait for the next one.
        lock (_sync)
        {
            _ = _nextRun.Task.ContinueWith(static (_, state) => ((TaskCompletionSource)state!).TrySetResult(), run,
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        await Task.Delay(options.CurrentValue.RetryInterval, time, stoppingToken);
        RequestDrain();
    }

    /// <summary>True when a drain was requested within <paramref name="timeout"/>, false when the time ran out.</summary>
    private async Task<bool> WaitForRequestAsync(TimeSpan timeout, CancellationToken stoppingToken)
    {
        if (timeout <= TimeSpan.Zero)
        {
            return _drainRequests.Reader.TryPeek(out _);
        }
        using var timer = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, timer.Token);
        try
        {
            return await _drainRequests.Reader.WaitToReadAsync(linked.Token);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>
    /// Rows waiting now that were already waiting at the previous sweep were abandoned by their writer:
    /// publish them. Returns the rows to look for at the next sweep.
    /// </summary>
    private async Task<HashSet<string>> SweepAsync(HashSet<string> previous, CancellationToken stoppingToken)
    {
        try
        {
            var waiting = await store.ListUnpublishedAsync(options.CurrentValue.BatchSize, stoppingToken);
            var abandoned = waiting.Where(n => previous.Contains(n.Id)).ToList();
            if (abandoned.Count > 0 && await TryDrainAsync(_ => abandoned, stoppingToken, once: true) is not null)
            {
                OutboxLog.Abandoned(logger, abandoned.Count);
                return [.. waiting.Where(n => !previous.Contains(n.Id)).Select(n => n.Id)];
            }
            return [.. waiting.Select(n => n.Id)];
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            OutboxLog.DrainFailed(logger, ex, options.CurrentValue.SweepInterval);
            return previous;
        }
    }

    /// <summary>
    /// Under the outbox lock, publishes (in id order) and marks the rows <paramref name="select"/> picks
    /// from each batch of waiting rows, until none is left (or after one batch when <paramref name="once"/>).
    /// Returns the users whose rows had to be left because the Redis Cluster shard of their topic could not be
    /// reached (their later rows are left too, so each user's notifications keep their order; everyone else's
    /// go out); null when another process holds the lock or publishing failed: try again later.
    /// </summary>
    private async Task<IReadOnlySet<string>?> TryDrainAsync(Func<IReadOnlyList<Notification>, IReadOnlyList<Notification>> select, CancellationToken stoppingToken, bool once = false)
    {
        var db = redis.GetDatabase();
        try
        {
            if (!await db.LockTakeAsync(channels.OutboxLock, _lockOwner, LockTime))
            {
                return null;
            }
            var published = 0;
            var blocked = new HashSet<string>(StringComparer.Ordinal);
            var cluster = redis.IsCluster() == true;
            try
            {
                var size = options.CurrentValue.BatchSize;
                while (true)
                {
                    var waiting = await store.ListUnpublishedAsync(size, stoppingToken);
                    var rows = select(waiting);
                    var done = new List<NotificationKey>(rows.Count);
                    foreach (var notification in rows)
                    {
                        if (blocked.Contains(notification.UserId))
                        {
                            continue;
                        }
                        var topic = BusTopic.User(notification.UserId);
                        if (!CanReach(topic))
                        {
                            // Leave it now rather than after the client's timeout: it waits for the next drain.
                            blocked.Add(notification.UserId);
                            continue;
                        }
                        try
                        {
                            await bus.PublishAsync(topic, Frames.Serialize("notification", notification), stoppingToken);
                        }
                        catch (MessageBusUnavailableException) when (cluster)
                        {
                            // One shard failing: the other shards' users need not wait for it.
                            blocked.Add(notification.UserId);
                            continue;
                        }
                        done.Add(new NotificationKey(notification.UserId, notification.Id));
                    }
                    if (done.Count > 0)
                    {
                        await store.MarkPublishedAsync(done, stoppingToken);
                    }
                    published += done.Count;
                    // Rows left in this batch would be read again: the rest waits for the next drain.
                    if (once || waiting.Count < size || blocked.Count > 0)
                    {
                        break;
                    }
                    await db.LockExtendAsync(channels.OutboxLock, _lockOwner, LockTime);
                }
            }
            finally
            {
                await db.LockReleaseAsync(channels.OutboxLock, _lockOwner);
            }
            if (published > 0 && !once)
            {
                OutboxLog.Drained(logger, published);
            }
            return blocked;
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            // Redis or the store failed: what was published stays marked unpublished and goes out again.
            OutboxLog.DrainFailed(logger, ex, options.CurrentValue.RetryInterval);
            return null;
        }
    }
}
