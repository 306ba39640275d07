using System.Globalization;

namespace Notify.Core.Messaging;

/// <summary>
/// A position in a channel's history (PROTOCOL.md: the <c>id</c> of a <c>message</c> frame, the
/// <c>since</c> a client resumes from): <c>ms-seq</c>, or a bare <c>ms</c> meaning <c>ms-0</c>, both
/// unsigned 64-bit. Offsets order by time, then by sequence; every <see cref="IMessageBus"/> issues
/// offsets in this form, so callers compare them here, not through an adapter.
/// </summary>
public static class ChannelOffset
{
    /// <summary>Whether <paramref name="value"/> is a well-formed offset.</summary>
    public static bool IsValid(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var dash = value.IndexOf('-', StringComparison.Ordinal);
        return dash < 0
            ? IsUInt64(value)
            : IsUInt64(value.AsSpan(0, dash)) && IsUInt64(value.AsSpan(dash + 1));

        static bool IsUInt64(ReadOnlySpan<char> digits) =>
            digits.Length > 0 && ulong.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out _);
    }

    /// <summary>Orders two offsets; a part that does not parse counts as 0.</summary>
    public static int Compare(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var (am, aseq) = Split(a);
        var (bm, bseq) = Split(b);
        return am != bm ? am.CompareTo(bm) : aseq.CompareTo(bseq);

        static (long, long) Split(string id)
        {
            var dash = id.IndexOf('-', StringComparison.Ordinal);
            return dash < 0
                ? (MillisecondsOf(id), 0)
                : (MillisecondsOf(id), long.TryParse(id.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : 0);
        }
    }

    /// <summary>The Unix time in milliseconds an offset was issued at (0 when it does not parse).</summary>
    public static long MillisecondsOf(string offset)
    {
        ArgumentNullException.ThrowIfNull(offset);
        var dash = offset.IndexOf('-', StringComparison.Ordinal);
        var span = dash < 0 ? offset.AsSpan() : offset.AsSpan(0, dash);
        return long.TryParse(span, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) ? ms : 0;
    }
}
