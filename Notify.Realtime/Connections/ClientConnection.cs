using System.Threading.Channels;
using Notify.Core.Messaging;

namespace Notify.Realtime.Connections;

/// <summary>
/// One live stream, independent of its transport: who it belongs to, the topics it receives, and its
/// bounded outbound queue that exactly one writer (the transport's send loop) drains. Fan-out only
/// ever calls <see cref="Deliver"/>, which never blocks: a full queue closes the connection as a slow
/// consumer instead of slowing anybody else.
/// </summary>
internal sealed class ClientConnection
{
    private readonly Channel<ReadOnlyMemory<byte>> _queue;
    private readonly int _capacity;
    private readonly CancellationTokenSource _closing = new();
    private readonly Lock _gate = new();
    private List<(BusTopic Topic, ReadOnlyMemory<byte> Frame)>? _pending;
    private BusTopic? _gatedTopic;
    // Filters that outlive a released gate: a frame replay already sent can still arrive live just after
    // the gate opens (its publish was in flight on the subscriber connection while replay read it).
    private List<(BusTopic? Topic, Func<ReadOnlyMemory<byte>, bool> AlreadySent, DateTimeOffset Until)>? _echoFilters;
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
        _queue = Channel.CreateBounded<ReadOnlyMemory<byte>>(new BoundedChannelOptions(queueCapacity)
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

    /// <summary>Channel topics this connection subscribed to (guarded by the registry).</summary>
    public HashSet<BusTopic> Topics { get; } = [];

    /// <summary>The frames to write, in order.</summary>
    public ChannelReader<ReadOnlyMemory<byte>> Outbound => _queue.Reader;

    /// <summary>Cancelled when the connection starts closing.</summary>
    public CancellationToken Closing => _closing.Token;

    /// <summary>Why it closes, once it does.</summary>
    public CloseReason? CloseReason => Volatile.Read(ref _closeReason);

    /// <summary>
    /// A frame from the bus. Buffered while the topic is gated for replay, otherwise queued; never waits.
    /// </summary>
    public void Deliver(BusTopic topic, ReadOnlyMemory<byte> frame, DateTimeOffset now)
    {
        LastActivity = now;
        lock (_gate)
        {
            if (_pending is not null && (_gatedTopic is null || _gatedTopic == topic))
            {
                if (_pending.Count >= _capacity)
                {
                    Close(CloseReason.SlowConsumer);
                    return;
                }
                _pending.Add((topic, frame));
                return;
            }
            if (_echoFilters is not null && IsReplayEcho(topic, frame, now))
            {
                return;
            }
            Enqueue(frame);
        }
    }

    private bool IsReplayEcho(BusTopic topic, ReadOnlyMemory<byte> frame, DateTimeOffset now)
    {
        _echoFilters!.RemoveAll(f => f.Until < now);
        if (_echoFilters.Count == 0)
        {
            _echoFilters = null;
            return false;
        }
        foreach (var (filterTopic, alreadySent, _) in _echoFilters)
        {
            if ((filterTopic is null || filterTopic == topic) && alreadySent(frame))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Queues a frame made for this connection alone (answers, heartbeats); overflow is a slow consumer too.</summary>
    public void Enqueue(ReadOnlyMemory<byte> frame)
    {
        if (!_queue.Writer.TryWrite(frame) && _closeReason is null)
        {
            Close(CloseReason.SlowConsumer);
        }
    }

    /// <summary>Queues a replayed frame, waiting for room: replay may be longer than the queue, its writer is draining it.</summary>
    public ValueTask EnqueueReplayAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken) =>
        _queue.Writer.WriteAsync(frame, cancellationToken);

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
    /// until <paramref name="echoUntil"/>.
    /// </summary>
    public void ReleaseGate(Func<ReadOnlyMemory<byte>, bool>? alreadySent, DateTimeOffset? echoUntil = null)
    {
        lock (_gate)
        {
            if (_pending is null)
            {
                return;
            }
            if (alreadySent is not null && echoUntil is { } until)
            {
                (_echoFilters ??= []).Add((_gatedTopic, alreadySent, until));
            }
            foreach (var (_, frame) in _pending)
            {
                if (alreadySent is null || !alreadySent(frame))
                {
                    Enqueue(frame);
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
