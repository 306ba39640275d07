using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Notify.Core.Messaging;
using Notify.Core.Notifications;
using Notify.Realtime.Options;

namespace Notify.Realtime.Connections;

/// <summary>
/// The connections of this instance and the fan-out to them. User topics share one subscription to every
/// user bucket (a frame for a user with no local receiver is dropped); any other topic's Redis subscription
/// is taken when its first local receiver arrives and released with its last. One bus message is handed as
/// the same bytes to every receiver. Never sees an <c>HttpContext</c>: the connection session registers
/// connections, and their transports drain the queues. Each topic's
/// <see cref="TopicFeed"/> remembers what was fanned out, so a stretch the subscription missed can be
/// caught up (see <c>SubscriptionRecovery</c>).
/// </summary>
internal sealed class ConnectionRegistry(
    IMessageBus bus,
    INotificationStore store,
    IOptionsMonitor<RealtimeOptions> options,
    TimeProvider time,
    ILogger<ConnectionRegistry> logger)
{
    /// <summary>The channel admin streams receive.</summary>
    public static readonly BusTopic AdminTopic = BusTopic.Channel("admin");

    private readonly ConcurrentDictionary<string, ClientConnection> _connections = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<BusTopic, TopicReceivers> _topics = new();
    private readonly Dictionary<string, int> _userConnections = new(StringComparer.Ordinal);
    private readonly Lock _usersLock = new();
    // Subscription changes of one topic are serialized; different topics proceed in parallel.
    private readonly SemaphoreSlim[] _topicLocks = [.. Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1))];
    private int _version;
    private int _admitted;
    private Task<IAsyncDisposable>? _userSubscription;

    /// <summary>Raised (on the caller's thread) when the set of connections changes; presence listens.</summary>
    public event Action? Changed;

    /// <summary>Bumped on every change, so presence can tell whether its snapshot is current.</summary>
    public int Version => Volatile.Read(ref _version);

    /// <summary>
    /// The connections, read as they are while enumerated: no copy and no lock (the heartbeat sweep walks them
    /// four times a second; <c>Values</c> would take every lock and copy them all each time).
    /// </summary>
    public IEnumerable<ClientConnection> Connections => _connections.Select(static pair => pair.Value);

    public int Count => _connections.Count;

    private ILogger Logger => logger;

    /// <summary>Streams admitted and not yet released (counted against <c>Realtime:MaxConnections</c>).</summary>
    public int Admitted => Volatile.Read(ref _admitted);

    /// <summary>
    /// Takes one of the instance's <c>Realtime:MaxConnections</c> slots for a stream about to be accepted;
    /// null when the instance is full. Everything the stream takes later (its user's slot, its registration,
    /// its topics) is given back with the slot when the admission is disposed.
    /// </summary>
    public Admission? TryAdmit()
    {
        if (Interlocked.Increment(ref _admitted) > options.CurrentValue.MaxConnections)
        {
            Interlocked.Decrement(ref _admitted);
            return null;
        }
        return new Admission(this);
    }

    /// <summary>Live streams of any kind <paramref name="userId"/> holds on this instance.</summary>
    public int UserConnections(string userId)
    {
        lock (_usersLock)
        {
            return _userConnections.GetValueOrDefault(userId);
        }
    }

    private bool TryClaimUser(string userId)
    {
        lock (_usersLock)
        {
            var count = _userConnections.GetValueOrDefault(userId);
            if (count >= options.CurrentValue.MaxConnectionsPerUser)
            {
                return false;
            }
            _userConnections[userId] = count + 1;
            return true;
        }
    }

    private void ReleaseUser(string userId)
    {
        lock (_usersLock)
        {
            if (_userConnections.TryGetValue(userId, out var count))
            {
                if (count <= 1)
                {
                    _userConnections.Remove(userId);
                }
                else
                {
                    _userConnections[userId] = count - 1;
                }
            }
        }
    }

    private void Add(ClientConnection connection)
    {
        _connections[connection.Id] = connection;
        Interlocked.Increment(ref _version);
        Changed?.Invoke();
    }

    /// <summary>Unsubscribes every topic of the connection and forgets it. Runs to the end even at shutdown, so no subscription leaks.</summary>
    private async Task RemoveAsync(ClientConnection connection)
    {
        if (!_connections.TryRemove(connection.Id, out _))
        {
            return;
        }
        BusTopic[] topics;
        lock (connection.Topics)
        {
            topics = [.. connection.Topics];
            connection.Topics.Clear();
        }
        try
        {
            foreach (var topic in topics)
            {
                await ReleaseAsync(connection, topic);
            }
        }
        finally
        {
            Interlocked.Increment(ref _version);
            Changed?.Invoke();
        }
    }

    /// <summary>
    /// One stream's hold on this instance, from before it is accepted to after it is gone: the instance
    /// slot, then its user's slot (<c>Realtime:MaxConnectionsPerUser</c>, every stream kind), then its
    /// registration and topics. <see cref="DisposeAsync"/> gives back whatever was taken, once, and never
    /// throws; transports dispose it in their one <c>finally</c>.
    /// </summary>
    internal sealed class Admission(ConnectionRegistry registry) : IAsyncDisposable
    {
        private string? _user;
        private ClientConnection? _connection;
        private int _disposed;

        /// <summary>Counts the stream against <paramref name="userId"/>'s limit; false when the user is at it.</summary>
        public bool TryClaimUser(string userId)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            if (_user is not null)
            {
                throw new InvalidOperationException("The user slot is already claimed.");
            }
            if (!registry.TryClaimUser(userId))
            {
                return false;
            }
            _user = userId;
            return true;
        }

        /// <summary>Makes <paramref name="connection"/> one of the instance's connections (presence, heartbeats, fan-out).</summary>
        public void Register(ClientConnection connection)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            _connection = connection;
            registry.Add(connection);
        }

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }
            // The slots first: once presence shows the connection gone, its user may connect again.
            if (_user is not null)
            {
                registry.ReleaseUser(_user);
            }
            Interlocked.Decrement(ref registry._admitted);
            try
            {
                if (_connection is not null)
                {
                    await registry.RemoveAsync(_connection);
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                RealtimeLog.ReleaseFailed(registry.Logger, ex, _connection!.Id);
            }
        }
    }

    /// <summary>
    /// Makes <paramref name="connection"/> a receiver of <paramref name="topic"/>; returns once this
    /// instance's Redis subscription is active, so anything published afterwards reaches it.
    /// False when it already was a receiver.
    /// </summary>
    public async Task<bool> SubscribeAsync(ClientConnection connection, BusTopic topic, CancellationToken cancellationToken)
    {
        lock (connection.Topics)
        {
            if (connection.Topics.Contains(topic))
            {
                return false;
            }
            connection.Topics.Add(topic);
        }
        var gate = LockFor(topic);
        await gate.WaitAsync(cancellationToken);
        try
        {
            var receivers = _topics.GetOrAdd(topic, NewReceivers);
            receivers.Add(connection);
            if (!receivers.Active)
            {
                try
                {
                    if (topic.Kind == BusTopicKind.User)
                    {
                        await SharedUserSubscriptionAsync(cancellationToken);
                    }
                    else
                    {
                        receivers.Subscription = await bus.SubscribeAsync(topic, OnMessage, cancellationToken);
                        RealtimeLog.TopicSubscribed(logger, topic.Kind, topic.Key);
                    }
                    receivers.Active = true;
                }
                catch
                {
                    receivers.Remove(connection);
                    if (receivers.IsEmpty)
                    {
                        _topics.TryRemove(topic, out _);
                    }
                    lock (connection.Topics)
                    {
                        connection.Topics.Remove(topic);
                    }
                    throw;
                }
                receivers.Feed.Start(await StartingPointAsync(topic, cancellationToken));
            }
        }
        finally
        {
            gate.Release();
        }
        return true;
    }

    /// <summary>Stops <paramref name="connection"/> receiving <paramref name="topic"/>. False when it was not a receiver.</summary>
    public async Task<bool> UnsubscribeAsync(ClientConnection connection, BusTopic topic, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (connection.Topics)
        {
            if (!connection.Topics.Remove(topic))
            {
                return false;
            }
        }
        await ReleaseAsync(connection, topic);
        return true;
    }

    /// <summary>Closes every connection with <paramref name="reason"/> (shutdown).</summary>
    public void CloseAll(CloseReason reason)
    {
        foreach (var connection in _connections.Values)
        {
            connection.Close(reason);
        }
    }

    private async Task ReleaseAsync(ClientConnection connection, BusTopic topic)
    {
        var gate = LockFor(topic);
        // Releasing must finish even when the caller is being cancelled, or the subscription leaks.
        await gate.WaitAsync(CancellationToken.None);
        try
        {
            if (!_topics.TryGetValue(topic, out var receivers))
            {
                return;
            }
            receivers.Remove(connection);
            if (receivers.IsEmpty)
            {
                _topics.TryRemove(topic, out _);
                if (receivers.Subscription is { } subscription)
                {
                    try
                    {
                        await subscription.DisposeAsync();
                        RealtimeLog.TopicUnsubscribed(logger, topic.Kind, topic.Key);
                    }
                    catch (Exception ex) when (ex is not OutOfMemoryException)
                    {
                        RealtimeLog.UnsubscribeFailed(logger, ex, topic.Kind, topic.Key);
                    }
                }
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The topics with their feeds, at this moment.</summary>
    public List<(BusTopic Topic, TopicFeed Feed)> Feeds() => [.. _topics.Select(pair => (pair.Key, pair.Value.Feed))];

    /// <summary>The topics <paramref name="carried"/> picks (every topic when null) start holding their live frames (their Redis subscription was lost).</summary>
    public void SuspendFeeds(Func<BusTopic, bool>? carried = null)
    {
        foreach (var (topic, receivers) in _topics)
        {
            if (carried is null || carried(topic))
            {
                receivers.Feed.Suspend();
            }
        }
    }

    /// <summary>Hands a frame to every receiver of <paramref name="topic"/> on this instance (a live or replayed one).</summary>
    public void FanOut(BusTopic topic, ReadOnlyMemory<byte> frame)
    {
        if (_topics.TryGetValue(topic, out var receivers))
        {
            // One instance for every receiver: its envelope is read once, by the first receiver that needs it.
            FanOut(topic, receivers, new SharedFrame(frame));
        }
    }

    private void FanOut(BusTopic topic, TopicReceivers receivers, SharedFrame shared)
    {
        var now = time.GetUtcNow();
        // An admin-channel message whose payload is a system message (a task failure, an admin's
        // announcement) also reaches admin streams as the protocol's system_message frame, built once here.
        var system = topic == AdminTopic && ServerFrames.SystemMessageFor(shared) is { } message ? new SharedFrame(message) : null;
        var targets = receivers.Targets();
        if (targets.Length < ParallelFanOut || Environment.ProcessorCount == 1)
        {
            Deliver(targets, topic, shared, system, now);
            return;
        }
        // A large topic (the broadcast, a busy channel) is handed out by several threads at once, each a
        // slice of the same receivers and the same bytes. All slices finish before the next message of the
        // topic is handed out, so every connection still gets the topic's frames in order.
        var slices = Math.Min(Environment.ProcessorCount * 2, (targets.Length + ParallelFanOut - 1) / ParallelFanOut);
        Parallel.For(0, slices, slice =>
        {
            var start = (int)((long)targets.Length * slice / slices);
            var end = (int)((long)targets.Length * (slice + 1) / slices);
            Deliver(targets.AsSpan(start, end - start), topic, shared, system, now);
        });
    }

    /// <summary>Receivers from which a topic's fan-out is split across threads.</summary>
    internal const int ParallelFanOut = 1024;

    private static void Deliver(ReadOnlySpan<ClientConnection> targets, BusTopic topic, SharedFrame frame, SharedFrame? system, DateTimeOffset now)
    {
        foreach (var connection in targets)
        {
            connection.Deliver(topic, frame, now);
            if (system is not null && connection.Kind == StreamKind.Admin)
            {
                connection.Deliver(topic, system, now);
            }
        }
    }

    /// <summary>
    /// The shared Redis subscription (the user buckets' channels) that carries every user topic to this
    /// instance, taken with the first user topic and kept: each bucket's ordered queue hands each message to
    /// <see cref="OnMessage"/>, which routes it to the topic's receivers (or drops it when this instance has
    /// none), so a user costs no Redis subscription of its own and the user's frames keep their publish order.
    /// </summary>
    private Task SharedUserSubscriptionAsync(CancellationToken cancellationToken)
    {
        Task<IAsyncDisposable> shared;
        lock (_usersLock)
        {
            if (_userSubscription is null || _userSubscription.IsFaulted || _userSubscription.IsCanceled)
            {
                // Not the caller's token: the subscription outlives the connection that first needs it.
                _userSubscription = bus.SubscribeAllAsync(BusTopicKind.User, OnMessage, CancellationToken.None);
                _userSubscription.ContinueWith(
                    _ => RealtimeLog.TopicSubscribed(logger, BusTopicKind.User, "*"),
                    CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            }
            shared = _userSubscription;
        }
        return shared.WaitAsync(cancellationToken);
    }

    private void OnMessage(BusTopic topic, ReadOnlyMemory<byte> frame)
    {
        if (!_topics.TryGetValue(topic, out var receivers))
        {
            return;
        }
        // The feed reads the envelope (its id); the receivers get the same instance, so nobody reads it again.
        var shared = new SharedFrame(frame);
        if (receivers.Feed.Admit(shared, time.GetUtcNow()))
        {
            FanOut(topic, receivers, shared);
        }
    }

    private TopicReceivers NewReceivers(BusTopic topic)
    {
        var o = options.CurrentValue;
        return new TopicReceivers(new TopicFeed(topic.Kind, o.CatchUpWindow, o.MaxReplay));
    }

    /// <summary>
    /// Where the topic's stream stands now that its subscription is active: the user's newest notification
    /// id ("" for none) or the channel history's last offset. Null for task and batch topics, and when it
    /// cannot be read (the topic is then not caught up after a lost subscription; its clients resume on
    /// reconnect). Never throws: the subscription is active already and is released with its receivers.
    /// </summary>
    private async Task<string?> StartingPointAsync(BusTopic topic, CancellationToken cancellationToken)
    {
        try
        {
            switch (topic.Kind)
            {
                case BusTopicKind.User:
                    var newest = await store.ListAsync(topic.Key, new NotificationQuery { Limit = 1 }, cancellationToken);
                    return newest.Items.Count > 0 ? newest.Items[0].Id : "";
                case BusTopicKind.Channel or BusTopicKind.Broadcast:
                    return await bus.GetHistoryEndAsync(topic, cancellationToken);
                default:
                    return null;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The subscribing connection is closing; the subscription is released with it.
            return null;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            RealtimeLog.FeedStartFailed(logger, ex, topic.Kind, topic.Key);
            return null;
        }
    }

    private SemaphoreSlim LockFor(BusTopic topic) => _topicLocks[(topic.GetHashCode() & int.MaxValue) % _topicLocks.Length];

    private sealed class TopicReceivers(TopicFeed feed)
    {
        // Most topics (a user's, a task's) have one receiver: it is held in a field, and a table is made only
        // for the others (the broadcast topic's). A receiver stays where it was put until it is removed, so a
        // concurrent Targets() never misses one that was there before. Writers are serialized by the topic's gate.
        private ClientConnection? _first;
        private ConcurrentDictionary<ClientConnection, byte>? _others;
        private int _version;
        private Targets? _targets;

        /// <summary>The topic's own Redis subscription; null for user topics (they share one) and before it is taken.</summary>
        public IAsyncDisposable? Subscription { get; set; }

        /// <summary>Whether the topic's messages reach this instance (its subscription, or the shared one, is active).</summary>
        public bool Active { get; set; }

        public TopicFeed Feed { get; } = feed;

        public bool IsEmpty => Volatile.Read(ref _first) is null && (Volatile.Read(ref _others)?.IsEmpty ?? true);

        public void Add(ClientConnection connection)
        {
            if (_first == connection || _others?.ContainsKey(connection) == true)
            {
                return;
            }
            if (_first is null && (_others?.IsEmpty ?? true))
            {
                Volatile.Write(ref _first, connection);
            }
            else
            {
                var others = _others ?? new ConcurrentDictionary<ClientConnection, byte>(concurrencyLevel: 1, capacity: 1);
                others[connection] = 0;
                Volatile.Write(ref _others, others);
            }
            Interlocked.Increment(ref _version);
        }

        public void Remove(ClientConnection connection)
        {
            bool removed;
            if (_first == connection)
            {
                Volatile.Write(ref _first, null);
                removed = true;
            }
            else
            {
                removed = _others?.TryRemove(connection, out _) == true;
            }
            if (removed)
            {
                Interlocked.Increment(ref _version);
                // Not kept alive by an old snapshot until the topic's next message.
                Volatile.Write(ref _targets, null);
            }
        }

        /// <summary>
        /// The receivers as an array, copied again only after a change: a snapshot tagged with version v
        /// was read after every change up to v was made, so it never misses a receiver added before.
        /// </summary>
        public ClientConnection[] Targets()
        {
            var version = Volatile.Read(ref _version);
            var targets = Volatile.Read(ref _targets);
            if (targets is null || targets.Version != version)
            {
                var first = Volatile.Read(ref _first);
                var others = Volatile.Read(ref _others);
                ClientConnection[] connections = others is null or { IsEmpty: true }
                    ? first is null ? [] : [first]
                    : first is null ? [.. others.Keys] : [first, .. others.Keys];
                targets = new Targets(version, connections);
                Volatile.Write(ref _targets, targets);
            }
            return targets.Connections;
        }
    }

    private sealed record Targets(int Version, ClientConnection[] Connections);
}
