using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
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
/// subscription connection fails, or is being made again (<see cref="SubscriptionConnections"/>: the
/// failure may be reported after the new connection brings its first message), every topic starts
/// holding its live frames, and once it is back
/// (and the re-subscriptions have provably reached Redis) each topic is caught up from its durable
/// source before the held frames go out: a user's notifications from the store after the topic's
/// resume point, a channel's messages from its history after the last offset passed on, a task's or
/// batch's current snapshot. Replayed frames go through the same fan-out and filters as live ones, so
/// each connection gets every notification once, in order; a gap beyond <c>Realtime:MaxReplay</c>
/// becomes a <c>resync</c>.
/// </summary>
internal sealed class SubscriptionRecovery(
    IConnectionMultiplexer redis,
    SubscriptionConnections connections,
    ConnectionRegistry registry,
    INotificationStore store,
    IMessageBus bus,
    RedisChannels channels,
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

    /// <summary>How often the cluster's slot map is read while a lost subscription connection's node stays away.</summary>
    private static readonly TimeSpan ShardCheck = TimeSpan.FromSeconds(1);

    /// <summary>Longest wait for the sharded subscriptions to move to a promoted replica.</summary>
    private static readonly TimeSpan SettleLimit = TimeSpan.FromSeconds(10);

    /// <summary>When, after a promotion's catch-up, a second one runs.</summary>
    private static readonly TimeSpan SecondCatchUp = TimeSpan.FromSeconds(2);

    // A subscription connection came back (or a promotion replaced it): catch every topic up.
    private readonly Channel<bool> _restored = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    // A subscription connection failed: watch for its node's slots moving to a replica.
    private readonly Channel<bool> _failed = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    // The servers whose subscription connection failed and has not come back.
    private readonly ConcurrentDictionary<EndPoint, bool> _lost = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        redis.ConnectionFailed += OnConnectionFailed;
        redis.ConnectionRestored += OnConnectionRestored;
        connections.OnConnecting(OnSubscriptionConnecting);
        try
        {
            await Task.WhenAll(CatchUpAfterRestoresAsync(stoppingToken), WatchForPromotionsAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            connections.OnConnecting(null);
            redis.ConnectionFailed -= OnConnectionFailed;
            redis.ConnectionRestored -= OnConnectionRestored;
        }
    }

    private async Task CatchUpAfterRestoresAsync(CancellationToken stoppingToken)
    {
        while (await _restored.Reader.WaitToReadAsync(stoppingToken))
        {
            _restored.Reader.TryRead(out _);
            await WaitForSubscriptionsAsync(stoppingToken);
            await CatchUpAllAsync(stoppingToken);
        }
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Subscription)
        {
            RealtimeLog.SubscriptionLost(logger, e.FailureType.ToString());
            if (e.EndPoint is { } endPoint)
            {
                _lost[endPoint] = true;
            }
            registry.SuspendFeeds(CarriedBy(e.EndPoint));
            _failed.Writer.TryWrite(true);
        }
    }

    /// <summary>
    /// A subscription connection is being made again: hold every topic before it re-subscribes, so nothing
    /// it brings goes out ahead of what the lost one missed (its loss may not have been reported yet). The
    /// restore that follows catches the topics up and lets them go. Connections of other multiplexers
    /// sharing the configuration (Sentinel's own) are not this instance's subscriptions.
    /// </summary>
    private void OnSubscriptionConnecting(EndPoint endPoint)
    {
        if (Array.IndexOf(redis.GetEndPoints(), endPoint) >= 0)
        {
            registry.SuspendFeeds(CarriedBy(endPoint));
        }
    }

    /// <summary>
    /// The topics whose subscription sits on <paramref name="endPoint"/>: on one Redis (or Sentinel's primary) every
    /// topic (null); on a Redis Cluster the sharded topics whose slot that node owns in the client's slot map, and
    /// the classic pub/sub topics subscribed there (or nowhere), so a shard's loss holds only its own topics and
    /// everyone else's live frames keep going out. When the slot map cannot be read, every topic.
    /// </summary>
    private Func<BusTopic, bool>? CarriedBy(EndPoint? endPoint)
    {
        if (endPoint is null || redis.SlotMap() is not { } slots)
        {
            return null;
        }
        var lost = endPoint.ToString();
        var subscriber = redis.GetSubscriber();
        return topic =>
        {
            var name = channels.For(topic);
            if (RedisChannels.IsSharded(topic))
            {
                return slots.GetBySlot(redis.HashSlot(name))?.EndPoint is not { } owner || owner.ToString() == lost;
            }
            return subscriber.SubscribedEndpoint(RedisChannel.Literal(name)) is not { } at || at.ToString() == lost;
        };
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Subscription)
        {
            if (e.EndPoint is { } endPoint)
            {
                _lost.TryRemove(endPoint, out _);
            }
            _restored.Writer.TryWrite(true);
        }
    }

    /// <summary>
    /// On a Redis Cluster a primary that died for good never gets its subscription connection back: its
    /// replica is promoted and owns its slots instead. While a lost node stays away, a connected node is asked
    /// for the slot map once a second; when no lost node owns a slot any more, the client reloads its slot map
    /// (which moves the sharded subscriptions to the slots' new owners) and the topics are caught up as after
    /// a restore.
    /// </summary>
    private async Task WatchForPromotionsAsync(CancellationToken stoppingToken)
    {
        while (await _failed.Reader.WaitToReadAsync(stoppingToken))
        {
            _failed.Reader.TryRead(out _);
            while (!_lost.IsEmpty)
            {
                await Task.Delay(ShardCheck, time, stoppingToken);
                try
                {
                    await CatchUpIfPromotedAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    RealtimeLog.ShardCheckFailed(logger, ex);
                }
            }
        }
    }

    /// <summary>
    /// When the lost nodes own no slot any more, reloads the client's slot map (which moves the sharded
    /// subscriptions to the slots' new owners) and catches every topic up (twice). The cheap question goes first:
    /// a reload also tries the lost nodes again and takes up to seconds.
    /// </summary>
    private async Task CatchUpIfPromotedAsync(CancellationToken stoppingToken)
    {
        if (redis.IsCluster() != true || _lost.IsEmpty || !await LostNodesOwnNoSlotsAsync())
        {
            return;
        }
        await redis.ConfigureAsync();
        await WaitForShardedSubscriptionsAsync(stoppingToken);
        _lost.Clear();
        RealtimeLog.ShardPromoted(logger);
        _restored.Writer.TryWrite(true);
        // A publication that reached a new owner just before this instance's subscription did is found by a
        // second catch-up (late, not lost; what was passed on already is skipped).
        await Task.Delay(SecondCatchUp, time, stoppingToken);
        _restored.Writer.TryWrite(true);
    }

    /// <summary>
    /// Waits (at most <see cref="SettleLimit"/>) until every sharded subscription this instance holds (the
    /// user buckets', its channel topics') sits on a connected node that was not lost.
    /// </summary>
    private async Task WaitForShardedSubscriptionsAsync(CancellationToken stoppingToken)
    {
        var subscriber = redis.GetSubscriber();
        var names = channels.EveryUserBucket()
            .Concat(registry.Feeds().Where(f => f.Topic.Kind == BusTopicKind.Channel).Select(f => channels.For(f.Topic)))
            .Select(RedisChannel.Sharded)
            .ToArray();
        var deadline = time.GetUtcNow() + SettleLimit;
        while (time.GetUtcNow() < deadline
               && !names.All(name => subscriber.SubscribedEndpoint(name) is { } at && !_lost.ContainsKey(at) && redis.GetServer(at).IsConnected))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), time, stoppingToken);
        }
    }

    /// <summary>
    /// Whether the cluster's slot map, asked of a connected node that was not lost (<c>CLUSTER NODES</c>, not the
    /// client's cached copy), gives no slot to any lost node.
    /// </summary>
    private async Task<bool> LostNodesOwnNoSlotsAsync()
    {
        foreach (var server in redis.GetServers())
        {
            if (server.IsConnected && !_lost.ContainsKey(server.EndPoint))
            {
                var nodes = (string?)await server.ExecuteAsync("CLUSTER", "NODES") ?? "";
                return _lost.Keys.All(lost => !OwnsSlots(nodes, lost));
            }
        }
        return false;
    }

    /// <summary>
    /// Whether <c>CLUSTER NODES</c> output gives <paramref name="node"/> any slot: its line (address
    /// <c>ip:port@busport</c>) has slot ranges after its eight fixed fields.
    /// </summary>
    internal static bool OwnsSlots(string clusterNodes, EndPoint node)
    {
        var address = node switch
        {
            IPEndPoint ip => ip.ToString(),
            DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
            _ => node.ToString() ?? "",
        };
        foreach (var line in clusterNodes.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var fields = line.Split(' ');
            if (fields.Length > 8 && fields[1].Split('@')[0] == address)
            {
                return true;
            }
        }
        return false;
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
