namespace Notify.Core.Notifications;

/// <summary>
/// Makes notification ids: 26-character ULIDs, whose string order is creation order (millisecond time
/// prefix, then a counter within the millisecond from one process), so "everything after id X" is a
/// string comparison in every store.
/// </summary>
public sealed class NotificationIds(TimeProvider time)
{
    private readonly Lock _gate = new();
    private Ulid _last;

    /// <summary>A new id greater than every id this instance made before.</summary>
    public string Next()
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            var candidate = Ulid.NewUlid(now);
            if (candidate.CompareTo(_last) <= 0)
            {
                // Same millisecond (or a clock step back): keep the order by incrementing the last id.
                var bytes = _last.ToByteArray();
                for (var i = bytes.Length - 1; i >= 0 && ++bytes[i] == 0; i--)
                {
                }
                candidate = new Ulid(bytes);
            }
            _last = candidate;
            return candidate.ToString();
        }
    }
}
