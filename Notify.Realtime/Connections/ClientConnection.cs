using System.Threading.Channels;
using Notify.Core.Messaging;
using Notify.Realtime.Sessions;

namespace Notify.Realtime.Connections;

/// <summary>
/// One live stream, independent of its transport: who it belongs to, the topics it receives, and its
/// bounded outbound queue that exactly one writer (the transport's send loop) drains. Fan-out only
/// ever calls <see cref="Deliver"/>, which never blocks: a full queue closes the connection as a slow
/// consumer instead of slowing anybody else.
/// </summary>
internal sealed class ClientConnection
{
    private readonly Channel<OutboundFrame> _queue;
    private readonly int _capacity;
    private readonly CancellationTokenSource _closing = new();
    private readonly Lock _gate = new();
    private List<OutboundFrame>? _pending;
    private BusTopic? _gatedTopic;
    // Filters that outlive a released gate: a frame replay already sent can still arrive live just after
    // the gate opens (its publish was in flight on the subscriber connection while replay read it).
    // At most one per key (the inbox replay, each subscribed channel, the last mark_read), so their
    // number is bounded by the subscription limit however often a client re-subscribes.
    private Dictionary<EchoKey, EchoFilter>? _echoFilters;
    private CloseReason? _closeReason;

    public ClientConnection(string id, string userId, bool isAdmin, StreamKind kind, int queueCapacity, DateTimeOffset? expiresAt, DateTimeOffset now)
    {
        Id = id;
        UserId = userId;
        IsAdmin = isAdmin;
        Kind = kind;
        ExpiresAt = expiresAt;
        LastActivity = now;
        _capacity = queueCapacity;
        _queue = Channel.CreateBounded<OutboundFrame>(new BoundedChannelOptions(queueCapacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public string Id { get; }
    public string UserId { get; }
    public bool IsAdmin { get; }
    public StreamKind Kind { get; }

    /// <summary>When the token expires; the connection is closed with 4001 then.</summary>
    public DateTimeOffset? ExpiresAt { get; }

    /// <summary>Whether the stream is Server-Sent Events (its heartbeat period is the SSE one).</summary>
    public bool IsSse { get; init; }

    /// <summary>Heartbeat period of this stream (WebSocket and SSE differ).</summary>
    public TimeSpan HeartbeatInterval { get; set; }

    /// <summary>When the next heartbeat is due (set by the monitor).</summary>
    public DateTimeOffset NextHeartbeat { get; set; }

    /// <summary>Task/batch streams end after this long without a bus frame.</summary>
    public TimeSpan? IdleLimit { get; set; }

    private long _lastActivityTicks;

    /// <summary>When the last bus frame arrived.</summary>
    public DateTimeOffset LastActivity
    {
        get => new(Volatile.Read(ref _lastActivityTicks), TimeSpan.Zero);
        private set => Volatile.Write(ref _lastActivityTicks, value.UtcTicks);
    }

    /// <summary>Drops broadcasts and channel messages the user turned off (notification streams only).</summary>
    public Preferences.MessagePreferenceFilter? Preferences { get; set; }

    /// <summary>Channel topics this connection subscribed to (guarded by the registry).</summary>
    public HashSet<BusTopic> Topics { get; } = [];

    /// <summary>What the client's frames have used of their limits; made when the first one arrives.</summary>
    public ClientFrameBudget? ClientFrames { get; set; }

    /// <summary>The frames to write, in order.</summary>
    public ChannelReader<OutboundFrame> Outbound => _queue.Reader;

    /// <summary>Echo filters in force (at most one per key; see <see cref="ReleaseGate"/>).</summary>
    internal int EchoFilterCount
    {
        get
        {
            lock (_gate)
            {
                return _echoFilters?.Count ?? 0;
            }
        }
    }

    /// <summary>Cancelled when the connection starts closing.</summary>
    public CancellationToken Closing => _closing.Token;

    /// <summary>Why it closes, once it does.</summary>
    public CloseReason? CloseReason => Volatile.Read(ref _closeReason);

    /// <summary>
    /// A frame from the bus. Buffered while the topic is gated for replay, otherwise queued; never waits.
    /// On a task or batch stream a terminal frame (<c>completed</c>, <c>error</c>, <c>finished</c>) from the
    /// bus ends the stream once written; frames the server makes itself (an <c>error</c> answer to a
    /// client frame) never do.
    /// </summary>
    public void Deliver(BusTopic topic, SharedFrame frame, DateTimeOffset now)
    {
        LastActivity = now;
        if (Preferences?.Drops(topic, frame, now) == true)
        {
            return;
        }
        // Only a task or batch stream's terminal frame needs its own instance; every other receiver shares the frame.
        var outbound = new OutboundFrame(Kind is StreamKind.Task or StreamKind.Batch && frame.Info.IsTerminal ? frame.Ending() : frame);
        lock (_gate)
        {
            if (_pending is not null && (_gatedTopic is null || _gatedTopic == topic))
            {
                if (_pending.Count >= _capacity)
                {
                    Close(CloseReason.SlowConsumer);
                    return;
                }
                _pending.Add(outbound);
                return;
            }
            if (_echoFilters is not null && IsEcho(topic, frame, now))
            {
                return;
            }
            Push(outbound);
        }
    }

    private bool IsEcho(BusTopic topic, SharedFrame frame, DateTimeOffset now)
    {
        List<EchoKey>? expired = null;
        var echo = false;
        foreach (var (key, filter) in _echoFilters!)
        {
            if (filter.Until < now)
            {
                (expired ??= []).Add(key);
            }
            else if (!echo && (filter.Topic is null || filter.Topic == topic) && filter.AlreadySent(frame))
            {
                echo = true;
            }
        }
        if (expired is not null)
        {
            foreach (var key in expired)
            {
                _echoFilters.Remove(key);
            }
            if (_echoFilters.Count == 0)
            {
                _echoFilters = null;
            }
        }
        return echo;
    }

    /// <summary>
    /// Drops live frames <paramref name="alreadySent"/> matches on <paramref name="topic"/> (every topic when
    /// null) until <paramref name="until"/>, replacing an earlier filter of the same <paramref name="key"/>.
    /// </summary>
    public void SetEchoFilter(EchoKey key, BusTopic? topic, Func<SharedFrame, bool> alreadySent, DateTimeOffset until)
    {
        lock (_gate)
        {
            (_echoFilters ??= [])[key] = new EchoFilter(topic, alreadySent, until);
        }
    }

    /// <summary>Forgets the echo filter of <paramref name="key"/> (the channel was left).</summary>
    public void RemoveEchoFilter(EchoKey key)
    {
        lock (_gate)
        {
            if (_echoFilters is not null && _echoFilters.Remove(key) && _echoFilters.Count == 0)
            {
                _echoFilters = null;
            }
        }
    }

    /// <summary>Queues a frame made for this connection alone (an answer); overflow is a slow consumer too.</summary>
    public void Enqueue(ReadOnlyMemory<byte> frame) => Enqueue(new SharedFrame(frame));

    /// <summary>Queues a frame the server made itself (an answer, a heartbeat shared by all connections); overflow is a slow consumer too.</summary>
    public void Enqueue(SharedFrame frame) => Push(new OutboundFrame(frame));

    private void Push(OutboundFrame frame)
    {
        if (!_queue.Writer.TryWrite(frame) && _closeReason is null)
        {
            Close(CloseReason.SlowConsumer);
        }
    }

    /// <summary>
    /// Queues a replayed frame, waiting for room: replay may be longer than the queue, its writer is draining it.
    /// <paramref name="endsStream"/> marks a task or batch snapshot's terminal frame.
    /// </summary>
    public ValueTask EnqueueReplayAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken, bool endsStream = false) =>
        _queue.Writer.WriteAsync(new OutboundFrame(new SharedFrame(frame) { EndsStream = endsStream }), cancellationToken);

    /// <summary>
    /// Starts buffering live frames of <paramref name="topic"/> (every topic when null) until
    /// <see cref="ReleaseGate"/>; one gate at a time (replays run one after another).
    /// </summary>
    public void BeginGate(BusTopic? topic)
    {
        lock (_gate)
        {
            _pending = [];
            _gatedTopic = topic;
        }
    }

    /// <summary>
    /// Queues the buffered live frames in arrival order, except those <paramref name="alreadySent"/> says
    /// replay delivered; then goes live, still dropping live frames <paramref name="alreadySent"/> matches
    /// until <paramref name="echoUntil"/> (an echo filter under <paramref name="echoKey"/>).
    /// </summary>
    public void ReleaseGate(Func<SharedFrame, bool>? alreadySent, EchoKey echoKey = default, DateTimeOffset? echoUntil = null)
    {
        lock (_gate)
        {
            if (_pending is null)
            {
                return;
            }
            if (alreadySent is not null && echoUntil is { } until)
            {
                (_echoFilters ??= [])[echoKey] = new EchoFilter(_gatedTopic, alreadySent, until);
            }
            foreach (var frame in _pending)
            {
                if (alreadySent is null || !alreadySent(frame.Frame))
                {
                    Push(frame);
                }
            }
            _pending = null;
            _gatedTopic = null;
        }
    }

    /// <summary>Starts closing with <paramref name="reason"/> (the first reason wins). Queued frames are dropped.</summary>
    public void Close(CloseReason reason)
    {
        if (Interlocked.CompareExchange(ref _closeReason, reason, null) is null)
        {
            _queue.Writer.TryComplete();
            _closing.Cancel();
        }
    }
}

/// <summary>
/// A frame waiting to be written; <see cref="EndsStream"/> closes a task or batch stream with 1000 once it is
/// written. One reference in size, so a connection's queue holds 8 bytes per waiting frame.
/// </summary>
internal readonly record struct OutboundFrame(SharedFrame Frame)
{
    public ReadOnlyMemory<byte> Bytes => Frame.Bytes;

    public bool EndsStream => Frame.EndsStream;
}

/// <summary>What an echo filter is for: the inbox replay (<c>default</c>), a channel's replay, or an inbox change (<c>mark_read</c>, <c>mark_seen</c>, <c>archive</c>, <c>unarchive</c>).</summary>
internal readonly record struct EchoKey(string? Name)
{
    public static EchoKey Inbox => default;
    /// <summary>The last inbox change of the kind whose frame is <paramref name="frameType"/> (<c>read</c>, <c>seen</c>, ...).</summary>
    public static EchoKey Change(string frameType) => new(frameType);
    public static EchoKey Channel(string channel) => new("channel:" + channel);
}

internal sealed record EchoFilter(BusTopic? Topic, Func<SharedFrame, bool> AlreadySent, DateTimeOffset Until)
{
    /// <summary>
    /// How long after a replay (or an inbox change) live frames it already sent are still dropped. A publish
    /// that was in flight while replay read the store arrives within milliseconds; this is a generous bound.
    /// </summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(30);
}
