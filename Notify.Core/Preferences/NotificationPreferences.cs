namespace Notify.Core.Preferences;

/// <summary>
/// What reaches a user: per notification type (<c>*</c> for every type without its own entry) and per
/// delivery channel, a <see cref="DeliveryMode"/>; and an optional quiet-hours window during which
/// <see cref="DeliveryMode.Live"/> acts as <see cref="DeliveryMode.Inbox"/>. The same shape holds the
/// admin's defaults per type, which apply where the user chose nothing.
/// </summary>
public sealed record NotificationPreferences
{
    /// <summary>No choice made: everything is live.</summary>
    public static NotificationPreferences Empty { get; } = new();

    /// <summary>Type (or <c>*</c>) → channel (see <see cref="PreferenceChannels"/>) → mode.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, DeliveryMode>> Types { get; init; } =
        new Dictionary<string, IReadOnlyDictionary<string, DeliveryMode>>(StringComparer.Ordinal);

    /// <summary>The window during which live acts as inbox; null: none.</summary>
    public QuietHours? QuietHours { get; init; }
}

/// <summary>How a notification of a type reaches the user on a channel.</summary>
public enum DeliveryMode
{
    /// <summary>Stored, counted, pushed live (and shown as a toast).</summary>
    Live,
    /// <summary>Stored and counted, not pushed live.</summary>
    Inbox,
    /// <summary>Not delivered to the user at all.</summary>
    Off,
}

/// <summary>
/// The delivery channels a preference can name. <c>in_app</c> is the inbox and its live stream. <c>push</c>
/// is Web Push to the user's registered browsers: <c>live</c> pushes when the user has no live connection,
/// <c>inbox</c> and <c>off</c> never push. Readers ask <see cref="PreferenceResolver.Resolve"/> for their
/// channel and get <see cref="DeliveryMode.Live"/> when nothing was chosen for it.
/// </summary>
public static class PreferenceChannels
{
    public const string InApp = "in_app";

    public const string Push = "push";

    /// <summary>Every channel a preference may name.</summary>
    public static IReadOnlyList<string> All { get; } = [InApp, Push];
}

/// <summary>
/// A daily window, <c>HH:mm</c> to <c>HH:mm</c> in an IANA time zone; an end before the start wraps over
/// midnight (22:00–07:00).
/// </summary>
public sealed record QuietHours(string Start, string End, string TimeZone);

/// <summary>A version of one owner's stored preferences (version 0: nothing stored).</summary>
public sealed record StoredPreferences(NotificationPreferences Preferences, long Version, DateTimeOffset? UpdatedAt)
{
    public static StoredPreferences Empty { get; } = new(NotificationPreferences.Empty, 0, null);
}
