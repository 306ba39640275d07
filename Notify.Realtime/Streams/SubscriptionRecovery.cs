using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Notify.Core.Messaging;
using Notify.Core.Notifications;
using Notify.Realtime.Connections;
using Notify.Realtime.Options;
using StackExchange.Redis;

namespace Notify.Realtime.Streams;

/// <summary>
/// Makes a lost Redis subscription lossless for the open streams. Redis pub/sub drops whatever is
/// published while a subscriber's connection is down (Redis restarting, the connection killed), and
/// StackExchange.Redis re-subscribes on reconnect without telling what was missed. So when the
/// subscription connection fails every topic starts holding its live frames, and once it is back
/// (and the re-subscriptions have provably reached Redis) each topic is caught up from its durable
/// source before the held frames go out: a user's notifications from the store after the topic's
/// resume point, a channel's messages from its history after the last offset passed on, a task's or
/// batch's current snapshot. Replayed frames go through the same fan-out and filters as live ones, so
/// each connection gets every notification once, in order; a gap beyond <c>Realtime:MaxReplay</c>
/// becomes a <c>resync</c>.
/// </summary>
internal sealed class SubscriptionRecovery(
    IConnectionMultiplexer redis,
    ConnectionRegistry registry,
    INotificationStore store,
    IMessageBus bus,
    ProgressStreams progress,
    IOptionsMonitor<RealtimeOptions> options,
    TimeProvider time,
    ILogger<SubscriptionRecovery> logger) : BackgroundService
{
    /// <summary>The channel name broadcasts without a channel are published under (the Api's).</summary>
    private const string BroadcastChannelName = "broadcast";

    /// <summary>Catch-ups of a topic in a row whose held frames overflowed before the client is told to resync.</summary>
    private const int MaxAttempts = 3;

    private static readonly TimeSpan PingRetry = TimeSpan.FromMilliseconds(500);

    private readonly Channel<bool> _restored = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        redis.ConnectionFailed += OnConnectionFailed;
        redis.ConnectionRestored += OnConnectionRestored;
        try
        {
            while (await _restored.Reader.WaitToReadAsync(stoppingToken))
            {
                _restored.Reader.TryRead(out _);
                await WaitForSubscriptionsAsync(stoppingToken);
                await CatchUpAllAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            redis.ConnectionFailed -= OnConnectionFailed;
            redis.ConnectionRestored -= OnConnectionRestored;
        }
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Subscription)
        {
            RealtimeLog.SubscriptionLost(logger, e.FailureType.ToString());
            registry.SuspendFeeds();
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Subscription)
        {
            _restored.Writer.TryWrite(true);
        }
    }

    /// <summary>
    /// StackExchange.Redis sends its re-subscriptions on the subscription connection before it reports
    /// the connection restored; a PING sent after them on that connection is answered only once Redis
    /// has processed them, so from then on every publication reaches this instance.
    /// </summary>
    private async Task WaitForSubscriptionsAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                await redis.GetSubscriber().PingAsync().WaitAsync(cancellationToken);
                return;
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                RealtimeLog.SubscriberPingFailed(logger, ex);
                await Task.Delay(PingRetry, time, cancellationToken);
            }
        }
    }

    private async Task CatchUpAllAsync(CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        var feeds = registry.Feeds();
        int replayed = 0, resyncs = 0;
        await Parallel.ForEachAsync(feeds, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken }, async (entry, ct) =>
        {
            var (sent, resynced) = await CatchUpAsync(entry.Topic, entry.Feed, ct);
            Interlocked.Add(ref replayed, sent);
            if (resynced)
            {
                Interlocked.Increment(ref resyncs);
            }
        });
        RealtimeLog.CaughtUp(logger, feeds.Count, replayed, resyncs, watch.ElapsedMilliseconds);
    }

    /// <summary>Replays what <paramref name="topic"/> missed, then releases its held frames. Returns the frames replayed and whether a resync was sent.</summary>
    private async Task<(int Replayed, bool Resynced)> CatchUpAsync(BusTopic topic, TopicFeed feed, CancellationToken cancellationToken)
    {
        void FanOut(ReadOnlyMemory<byte> frame) => registry.FanOut(topic, frame);
        var replayed = 0;
        try
        {
            if (topic.Kind is BusTopicKind.Task or BusTopicKind.Batch)
            {
                // Progress is a state, not a log: the current snapshot (and the end, if reached) says it all.
                var frames = topic.Kind == BusTopicKind.Task
                    ? await progress.TaskSnapshotAsync(topic.Key, cancellationToken)
                    : await progress.BatchSnapshotAsync(topic.Key, cancellationToken);
                frames.ForEach(f => FanOut(f));
                feed.Resume(FanOut, time.GetUtcNow());
                return (frames.Count, false);
            }
            for (var attempt = 0; attempt < MaxAttempts; attempt++)
            {
                feed.Suspend();
                var (sent, resynced) = await ReplayAsync(topic, feed, FanOut, cancellationToken);
                replayed += sent;
                if (feed.Resume(FanOut, time.GetUtcNow()) || resynced)
                {
                    return (replayed, resynced);
                }
            }
            // Live frames kept overflowing the hold while replay ran: let the clients reload instead.
            await ResyncAsync(topic, feed, "too_many_missed", FanOut, cancellationToken);
            return (replayed, true);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            RealtimeLog.CatchUpFailed(logger, ex, topic.Kind, topic.Key);
            // Never leave a topic holding its frames.
            feed.Resume(FanOut, time.GetUtcNow());
            return (replayed, false);
        }
    }

    private async Task<(int Replayed, bool Resynced)> ReplayAsync(BusTopic topic, TopicFeed feed, Action<ReadOnlyMemory<byte>> fanOut, CancellationToken cancellationToken)
    {
        if (feed.ResumePoint is not { } resumePoint)
        {
            return (0, false);
        }
        var max = options.CurrentValue.MaxReplay;
        var sent = 0;
        if (topic.Kind == BusTopicKind.User)
        {
            var missed = await store.ListAfterAsync(topic.Key, resumePoint, max + 1, cancellationToken);
            if (missed.Count > max)
            {
                await ResyncAsync(topic, feed, "too_many_missed", fanOut, cancellationToken);
                return (0, true);
            }
            foreach (var notification in missed)
            {
                if (feed.ShouldReplay(notification.Id, time.GetUtcNow()))
                {
                    fanOut(ServerFrames.Notification(notification));
                    sent++;
                }
            }
            return (sent, false);
        }

        var history = await bus.ReadHistoryAsync(topic, resumePoint, max + 1, cancellationToken);
        if (history.Truncated || history.Entries.Count > max)
        {
            await ResyncAsync(topic, feed, history.Truncated ? "history_truncated" : "too_many_missed", fanOut, cancellationToken);
            return (0, true);
        }
        foreach (var entry in history.Entries)
        {
            if (feed.ShouldReplay(entry.Id, time.GetUtcNow()))
            {
                fanOut(entry.Frame);
                sent++;
            }
        }
        return (sent, false);
    }

    /// <summary>Tells the topic's clients to reload (PROTOCOL.md <c>resync</c>) and moves its resume point to now.</summary>
    private async Task ResyncAsync(BusTopic topic, TopicFeed feed, string reason, Action<ReadOnlyMemory<byte>> fanOut, CancellationToken cancellationToken)
    {
        string now;
        if (topic.Kind == BusTopicKind.User)
        {
            fanOut(ServerFrames.Resync(reason, null));
            var newest = await store.ListAsync(topic.Key, new NotificationQuery { Limit = 1 }, cancellationToken);
            now = newest.Items.Count > 0 ? newest.Items[0].Id : "";
        }
        else
        {
            fanOut(ServerFrames.Resync(reason, topic.Kind == BusTopicKind.Broadcast ? BroadcastChannelName : topic.Key));
            now = await bus.GetHistoryEndAsync(topic, cancellationToken);
        }
        feed.Skip(now);
        RealtimeLog.CatchUpResync(logger, topic.Kind, topic.Key, reason);
    }
}
