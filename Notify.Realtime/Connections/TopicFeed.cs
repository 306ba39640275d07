using Notify.Core.Messaging;

namespace Notify.Realtime.Connections;

/// <summary>
/// What one topic's fan-out on this instance has passed on, so that a stretch the Redis subscription
/// missed (the pub/sub connection was cut, Redis restarted) can be replayed from the durable source:
/// a resume point, the notification ids passed on recently, and a gate that holds live frames while
/// the subscription is down and while a catch-up runs. Thread-safe; the bus handler and the catch-up
/// meet here.
/// </summary>
/// <remarks>
/// User topics: ids are in commit order, but publications of different writers can arrive out of that
/// order, so a notification published late may carry an id below one already passed on. The resume
/// point is therefore the greatest id passed on at least <c>window</c> ago (or <c>capacity</c> ids
/// ago), and the ids passed on since are remembered exactly: a catch-up replays everything after the
/// resume point except those, and a live frame whose id was passed on already is dropped. Channel and
/// broadcast topics: stream offsets are assigned in publish order, so the resume point is simply the
/// last offset passed on. Task and batch topics have no resume point (their catch-up is the snapshot).
/// </remarks>
internal sealed class TopicFeed(BusTopicKind kind, TimeSpan window, int capacity)
{
    private readonly Lock _gate = new();
    private string? _resumePoint;
    // Channel topics: the newest offset a catch-up replayed. Its live copy may still be on its way
    // through the subscription (published after the re-subscribe, read by the replay first).
    private string? _replayedUpTo;
    private Queue<(string Id, DateTimeOffset At)>? _recent;
    private HashSet<string>? _recentIds;
    private List<ReadOnlyMemory<byte>>? _held;
    private bool _overflowed;

    /// <summary>Where a catch-up starts (exclusive): a notification id or a stream offset; null when unknown.</summary>
    public string? ResumePoint
    {
        get
        {
            lock (_gate)
            {
                return _resumePoint;
            }
        }
    }

    /// <summary>Whether live frames are being held (the subscription is down or a catch-up runs).</summary>
    public bool IsHeld
    {
        get
        {
            lock (_gate)
            {
                return _held is not null;
            }
        }
    }

    /// <summary>Sets the resume point the topic starts from (where the stream stood when the subscription became active).</summary>
    public void Start(string? resumePoint)
    {
        if (resumePoint is null)
        {
            return;
        }
        lock (_gate)
        {
            // Frames that arrived meanwhile may have moved it further already.
            if (_resumePoint is null || Compare(resumePoint, _resumePoint) > 0)
            {
                _resumePoint = resumePoint;
            }
        }
    }

    /// <summary>
    /// A live frame from the bus: true to fan it out now; false when it is held for later or was
    /// passed on already. Its envelope is read through <paramref name="frame"/>, so the fan-out that
    /// follows does not read it again.
    /// </summary>
    public bool Admit(SharedFrame frame, DateTimeOffset now)
    {
        lock (_gate)
        {
            if (_held is not null)
            {
                Hold(frame.Bytes);
                return false;
            }
            Forget(now);
            return PassOn(frame, now);
        }
    }

    /// <summary>Starts holding live frames (the subscription is down, or a catch-up is about to read).</summary>
    public void Suspend()
    {
        lock (_gate)
        {
            _held ??= [];
        }
    }

    /// <summary>
    /// Whether a replayed entry must be sent: false when it was passed on already. A notification
    /// that must be sent is remembered as passed on; a channel entry moves the resume point.
    /// </summary>
    public bool ShouldReplay(string id, DateTimeOffset now)
    {
        lock (_gate)
        {
            if (kind == BusTopicKind.User)
            {
                return Remember(id, now);
            }
            if (_resumePoint is not null && ChannelOffset.Compare(id, _resumePoint) <= 0)
            {
                return false;
            }
            _resumePoint = id;
            _replayedUpTo = id;
            return true;
        }
    }

    /// <summary>After a resync: everything up to <paramref name="resumePoint"/> counts as passed on.</summary>
    public void Skip(string resumePoint)
    {
        lock (_gate)
        {
            _resumePoint = resumePoint;
            _replayedUpTo = kind == BusTopicKind.User ? null : resumePoint;
            _recent = null;
            _recentIds = null;
        }
    }

    /// <summary>
    /// Stops holding: hands each held frame that was not passed on already to <paramref name="fanOut"/>,
    /// in arrival order, before any later live frame (the bus handler waits meanwhile). Returns false
    /// when more frames arrived than could be held; they were dropped and the caller must replay again.
    /// </summary>
    public bool Resume(Action<ReadOnlyMemory<byte>> fanOut, DateTimeOffset now)
    {
        lock (_gate)
        {
            var held = _held;
            var complete = !_overflowed;
            _held = null;
            _overflowed = false;
            if (held is null)
            {
                return true;
            }
            foreach (var frame in held)
            {
                if (PassOn(new SharedFrame(frame), now, held: true))
                {
                    fanOut(frame);
                }
            }
            return complete;
        }
    }

    private void Hold(ReadOnlyMemory<byte> frame)
    {
        if (_held!.Count < capacity)
        {
            _held.Add(frame);
        }
        else
        {
            // Notifications and channel entries are durable: the next catch-up reads them again.
            _overflowed = true;
        }
    }

    /// <summary>
    /// Whether a frame goes out, recording what it passes on. Live channel entries arrive in offset
    /// order, so one is a duplicate only when a catch-up replayed it first, or when it was held after
    /// entries up to the resume point had gone out. (A live entry below a resume point that only the
    /// topic's start set was published as the subscription began: it goes out.)
    /// </summary>
    private bool PassOn(SharedFrame frame, DateTimeOffset now, bool held = false)
    {
        if (kind is BusTopicKind.Task or BusTopicKind.Batch)
        {
            return true;
        }
        var info = frame.Info;
        if (info.Id is null)
        {
            return true;
        }
        if (kind == BusTopicKind.User)
        {
            return info.Type != "notification" || Remember(info.Id, now);
        }
        if (info.Type != "message")
        {
            return true;
        }
        if (_replayedUpTo is not null && ChannelOffset.Compare(info.Id, _replayedUpTo) <= 0)
        {
            return false;
        }
        if (_resumePoint is not null && ChannelOffset.Compare(info.Id, _resumePoint) <= 0)
        {
            return !held;
        }
        _resumePoint = info.Id;
        return true;
    }

    /// <summary>Records a notification id as passed on; false when it already was.</summary>
    private bool Remember(string id, DateTimeOffset now)
    {
        _recent ??= new Queue<(string, DateTimeOffset)>();
        _recentIds ??= new HashSet<string>(StringComparer.Ordinal);
        if (!_recentIds.Add(id))
        {
            return false;
        }
        _recent.Enqueue((id, now));
        Forget(now);
        return true;
    }

    /// <summary>Ids passed on longer than the window ago (or beyond the capacity) move into the resume point.</summary>
    private void Forget(DateTimeOffset now)
    {
        if (_recent is null)
        {
            return;
        }
        while (_recent.Count > 0 && (_recent.Count > capacity || now - _recent.Peek().At > window))
        {
            var (old, _) = _recent.Dequeue();
            _recentIds!.Remove(old);
            if (_resumePoint is null || string.CompareOrdinal(old, _resumePoint) > 0)
            {
                _resumePoint = old;
            }
        }
        if (_recent.Count == 0)
        {
            _recent = null;
            _recentIds = null;
        }
    }

    private int Compare(string a, string b) =>
        kind == BusTopicKind.User ? string.CompareOrdinal(a, b) : ChannelOffset.Compare(a, b);
}
