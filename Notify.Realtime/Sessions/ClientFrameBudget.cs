namespace Notify.Realtime.Sessions;

/// <summary>
/// What one connection's client frames have used of their limits: a token bucket of <c>rate</c> frames per
/// second with a burst of the same size (<c>Realtime:ClientFrameRate</c>), and the count of rejected frames
/// (<c>Realtime:MaxClientErrors</c>). Made on the client's first frame, so a silent connection holds none.
/// Used by the connection's one reader only.
/// </summary>
internal sealed class ClientFrameBudget(int rate, TimeProvider time)
{
    private double _tokens = rate;
    private long _last = time.GetTimestamp();
    private int _rejected;

    /// <summary>Takes one frame's token; false when the client sends faster than the rate allows.</summary>
    public bool TryTake()
    {
        var now = time.GetTimestamp();
        _tokens = Math.Min(rate, _tokens + time.GetElapsedTime(_last, now).TotalSeconds * rate);
        _last = now;
        if (_tokens < 1)
        {
            return false;
        }
        _tokens -= 1;
        return true;
    }

    /// <summary>Counts a rejected frame; false once more than <paramref name="allowed"/> were rejected.</summary>
    public bool TryReject(int allowed) => ++_rejected <= allowed;
}
