using Notify.Core.Messaging;
using Notify.Realtime.Sessions;

namespace Notify.Realtime.Connections;

/// <summary>
/// One live stream, independent of its transport: who it belongs to, the topics it receives, and its
/// bounded outbound queue. Fan-out only ever calls <see cref="Deliver"/>, which never blocks: a full queue
/// closes the connection as a slow consumer instead of slowing anybody else.
/// </summary>
/// <remarks>
/// An idle connection has no writer waiting on its queue: queuing a frame into an empty queue starts one
/// write run on the thread pool (<see cref="StartWriting"/>'s <see cref="IFrameWriter"/>), which writes the
/// queued frames in order and ends when the queue is empty. At most one run is under way at a time, so frames
/// are written in queue order, and the queue is bounded by <c>Realtime:SendQueueCapacity</c> as before.
/// </remarks>
internal sealed class ClientConnection : IThreadPoolWorkItem
{
    /// <summary>Slots of a queue's first array; kept while the connection lives (every heartbeat uses it), a larger one is dropped once drained.</summary>
    private const int SmallQueue = 4;

    private readonly int _capacity;
    private readonly CancellationTokenSource _closing = new();
    // Guards the queue, the writer state, the replay gate and the echo filters.
    private readonly Lock _gate = new();
    private OutboundFrame[]? _frames;
    private int _head;
    private int _count;
    private IFrameWriter? _writer;
    // A write run is queued or under way.
    private bool _writing;
    // Made only while a replay waits for room, a close waits for the write run, or the session waits for the close.
    private TaskCompletionSource? _room;
    private TaskCompletionSource? _written;
    private TaskCompletionSource? _closed;
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
    /// <remarks>A list, not a set: it holds a few topics (at most <c>Realtime:MaxSubscriptionsPerConnection</c> and the stream's own), and an idle connection keeps it.</remarks>
    public List<BusTopic> Topics { get; } = new(2);

    /// <summary>What the client's frames have used of their limits; made when the first one arrives.</summary>
    public ClientFrameBudget? ClientFrames { get; set; }

    /// <summary>Frames queued and not yet taken by a write run.</summary>
    internal int QueuedCount
    {
        get
        {
            lock (_gate)
            {
                return _count;
            }
        }
    }

    /// <summary>The first fault of a part of the connection (a write run, the reader), which closed it with 1011; the session logs it.</summary>
    public Exception? Fault => Volatile.Read(ref _fault);

    private Exception? _fault;

    /// <summary>A part of the connection failed other than by the client going away: closes it with 1011, keeping the first fault for the log.</summary>
    public void Fail(Exception exception)
    {
        Interlocked.CompareExchange(ref _fault, exception, null);
        Close(CloseReason.InternalError);
    }

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
    public void Enqueue(SharedFrame frame)
    {
        lock (_gate)
        {
            Push(new OutboundFrame(frame));
        }
    }

    /// <summary>Queues <paramref name="frame"/> (under <see cref="_gate"/>); a full queue closes the connection as a slow consumer, a closed one drops it.</summary>
    private void Push(OutboundFrame frame)
    {
        if (_closeReason is not null)
        {
            return;
        }
        if (_count >= _capacity)
        {
            Close(CloseReason.SlowConsumer);
            return;
        }
        Add(frame);
    }

    private void Add(OutboundFrame frame)
    {
        if (_frames is null || _count == _frames.Length)
        {
            var grown = new OutboundFrame[_frames is null ? Math.Min(SmallQueue, _capacity) : Math.Min(_frames.Length * 2, _capacity)];
            for (var i = 0; i < _count; i++)
            {
                grown[i] = _frames![(_head + i) % _frames.Length];
            }
            _frames = grown;
            _head = 0;
        }
        _frames[(_head + _count) % _frames.Length] = frame;
        _count++;
        if (_writer is not null && !_writing)
        {
            _writing = true;
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    /// <summary>
    /// Queues a replayed frame, waiting for room: replay may be longer than the queue, the write run is draining it.
    /// <paramref name="endsStream"/> marks a task or batch snapshot's terminal frame. Throws
    /// <see cref="OperationCanceledException"/> once the connection is closing.
    /// </summary>
    public async ValueTask EnqueueReplayAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken, bool endsStream = false)
    {
        var outbound = new OutboundFrame(new SharedFrame(frame) { EndsStream = endsStream });
        while (true)
        {
            Task room;
            lock (_gate)
            {
                if (_closeReason is not null)
                {
                    throw new OperationCanceledException(_closing.Token);
                }
                if (_count < _capacity)
                {
                    Add(outbound);
                    return;
                }
                room = (_room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
            await room.WaitAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Frames are written by <paramref name="writer"/> from now on, those queued already (the replay) first.
    /// Called once, when the stream opens.
    /// </summary>
    public void StartWriting(IFrameWriter writer)
    {
        lock (_gate)
        {
            if (_writer is not null)
            {
                throw new InvalidOperationException("The connection has a writer already.");
            }
            _writer = writer;
            if (_count > 0 && _closeReason is null)
            {
                _writing = true;
                ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
            }
        }
    }

    /// <summary>Completes once no write run is under way; after <see cref="Close"/> none starts again.</summary>
    public Task WhenWritten()
    {
        lock (_gate)
        {
            return _writing ? (_written ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task : Task.CompletedTask;
        }
    }

    /// <summary>Completes when the connection starts closing (never faults).</summary>
    public Task WhenClosing()
    {
        lock (_gate)
        {
            return _closeReason is not null ? Task.CompletedTask : (_closed ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }
    }

    /// <summary>Takes the oldest queued frame for the write run; none once the connection is closing (queued frames are dropped).</summary>
    private bool TryTake(out OutboundFrame frame)
    {
        if (_closeReason is null)
        {
            return TryTakeQueued(out frame);
        }
        frame = default;
        return false;
    }

    /// <summary>Takes the oldest queued frame, also after the close (a test reads the queue this way when nothing writes it).</summary>
    internal bool TryTakeQueued(out OutboundFrame frame)
    {
        TaskCompletionSource? room = null;
        lock (_gate)
        {
            if (_count == 0)
            {
                frame = default;
                return false;
            }
            frame = _frames![_head];
            _frames[_head] = default;
            _head = (_head + 1) % _frames.Length;
            _count--;
            if (_room is not null)
            {
                room = _room;
                _room = null;
            }
        }
        room?.TrySetResult();
        return true;
    }

    /// <summary>Ends the write run when nothing is left to write (or the connection closed): true when it ended.</summary>
    private bool TryEndWriting()
    {
        TaskCompletionSource? written;
        lock (_gate)
        {
            if (_count > 0 && _closeReason is null)
            {
                return false;
            }
            if (_frames is { Length: > SmallQueue } && _count == 0)
            {
                _frames = null;
                _head = 0;
            }
            _writing = false;
            written = _written;
            _written = null;
        }
        written?.TrySetResult();
        return true;
    }

    void IThreadPoolWorkItem.Execute() => _ = WriteQueuedAsync();

    /// <summary>One write run: the queued frames in order, a flush, and again until the queue is empty.</summary>
    private async Task WriteQueuedAsync()
    {
        var writer = _writer!;
        try
        {
            do
            {
                while (TryTake(out var outbound))
                {
                    await writer.WriteAsync(outbound);
                    if (outbound.EndsStream)
                    {
                        Close(CloseReason.Normal);
                    }
                }
                await writer.FlushAsync();
            }
            while (!TryEndWriting());
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            if (writer.IsClientGone(ex))
            {
                Close(CloseReason.ClientClosed);
            }
            else
            {
                Fail(ex);
            }
            TryEndWriting();
        }
    }

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

    /// <summary>Starts closing with <paramref name="reason"/> (the first reason wins). Queued frames are dropped (no write run takes them) and nothing more is queued.</summary>
    public void Close(CloseReason reason)
    {
        if (Interlocked.CompareExchange(ref _closeReason, reason, null) is not null)
        {
            return;
        }
        TaskCompletionSource? room, closed;
        lock (_gate)
        {
            room = _room;
            closed = _closed;
            _room = null;
            _closed = null;
        }
        // Cancelled first: whoever wakes from the room or the close sees Closing cancelled.
        _closing.Cancel();
        room?.TrySetResult();
        closed?.TrySetResult();
    }
}

/// <summary>
/// Writes a connection's frames (the transport): one write run at a time, in queue order, so an implementation
/// needs no lock of its own.
/// </summary>
internal interface IFrameWriter
{
    /// <summary>Writes one frame (may leave it buffered until <see cref="FlushAsync"/>).</summary>
    ValueTask WriteAsync(OutboundFrame frame);

    /// <summary>Sends what <see cref="WriteAsync"/> buffered; called whenever the queue has been drained.</summary>
    ValueTask FlushAsync();

    /// <summary>Whether a write failed because the client went away (the connection closes as closed by the client, not with 1011).</summary>
    bool IsClientGone(Exception exception);
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
