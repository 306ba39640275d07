namespace Notify.Core.Presence;

/// <summary>
/// The presence totals (<see cref="PresenceStats"/>) for endpoints any user may call often
/// (<c>online-count</c>) and the admin stats: read from Redis and summed at most once per
/// <see cref="MaxAge"/> per process, by one caller at a time, while every other caller meanwhile gets the
/// same result. So the cost of those endpoints does not grow with how often they are called.
/// </summary>
public sealed class PresenceStatsCache(IPresence presence, TimeProvider time)
{
    /// <summary>How old an answer may be. Presence itself is rewritten a few times a second at most.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);

    private readonly SemaphoreSlim _refresh = new(1, 1);
    private Entry? _entry;

    /// <summary>The totals, at most <see cref="MaxAge"/> old.</summary>
    public async Task<PresenceStats> GetAsync(CancellationToken cancellationToken)
    {
        if (Fresh() is { } cached)
        {
            return cached;
        }
        await _refresh.WaitAsync(cancellationToken);
        try
        {
            if (Fresh() is { } refreshed)
            {
                return refreshed;
            }
            var stats = PresenceStats.From(await presence.ListAsync(cancellationToken));
            Volatile.Write(ref _entry, new Entry(stats, time.GetTimestamp()));
            return stats;
        }
        finally
        {
            _refresh.Release();
        }
    }

    private PresenceStats? Fresh() =>
        Volatile.Read(ref _entry) is { } entry && time.GetElapsedTime(entry.ReadAt) < MaxAge ? entry.Stats : null;

    private sealed record Entry(PresenceStats Stats, long ReadAt);
}
