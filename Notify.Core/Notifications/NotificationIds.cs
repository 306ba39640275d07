using System.Security.Cryptography;

namespace Notify.Core.Notifications;

/// <summary>
/// Makes notification ids: 26-character ULIDs (millisecond time prefix, then a counter within the
/// millisecond from one process), so "everything after id X" is a string comparison in every store.
/// </summary>
/// <remarks>
/// An id made here is only a proposal. Writers in several processes (Api replicas, the Worker) have
/// clocks of their own, so the stores raise a proposal above the user's greatest id at commit
/// (<see cref="Above"/>): for each user, id order is commit order whatever the clocks say.
/// </remarks>
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
                candidate = Add(_last, 1);
            }
            _last = candidate;
            return candidate.ToString();
        }
    }

    /// <summary>
    /// <paramref name="proposed"/> when it sorts after <paramref name="floor"/> (or there is no floor);
    /// otherwise an id just above <paramref name="floor"/>: the floor plus a random step of at most
    /// 2^31, so ids raised above the same floor for different users do not collide.
    /// </summary>
    public static string Above(string proposed, string? floor)
    {
        ArgumentException.ThrowIfNullOrEmpty(proposed);
        if (string.IsNullOrEmpty(floor) || string.CompareOrdinal(proposed, floor) > 0)
        {
            return proposed;
        }
        if (!Ulid.TryParse(floor, out var parsed))
        {
            throw new InvalidOperationException($"Notification id '{floor}' is not a ULID; ids cannot be ordered after it.");
        }
        return Add(parsed, 1 + (uint)RandomNumberGenerator.GetInt32(int.MaxValue)).ToString();
    }

    /// <summary><paramref name="id"/> plus <paramref name="step"/>, read as a 128-bit big-endian number.</summary>
    private static Ulid Add(Ulid id, uint step)
    {
        var bytes = id.ToByteArray();
        ulong carry = step;
        for (var i = bytes.Length - 1; i >= 0 && carry != 0; i--)
        {
            var sum = bytes[i] + (carry & 0xFF);
            bytes[i] = (byte)sum;
            carry = (carry >> 8) + (sum >> 8);
        }
        return new Ulid(bytes);
    }
}
