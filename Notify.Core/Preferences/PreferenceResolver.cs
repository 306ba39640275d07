using System.Globalization;
using System.Text.Json;
using Notify.Core.Json;

namespace Notify.Core.Preferences;

/// <summary>The mode that applies to one notification: the user's choice, else the admin's default, else live.</summary>
public static class PreferenceResolver
{
    /// <summary>The entry of a preference document that applies to every type without its own entry.</summary>
    public const string AnyType = "*";

    /// <summary>
    /// The mode for a notification of <paramref name="type"/> on <paramref name="channel"/> at
    /// <paramref name="now"/>: the user's entry for the type, the user's <c>*</c>, the defaults' entry for
    /// the type, the defaults' <c>*</c>, else live. Inside the user's quiet hours live becomes inbox.
    /// </summary>
    public static DeliveryMode Resolve(NotificationPreferences user, NotificationPreferences defaults, string type, string channel, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(defaults);
        var mode = Find(user, type, channel) ?? Find(defaults, type, channel) ?? DeliveryMode.Live;
        return mode == DeliveryMode.Live && user.QuietHours is { } quiet && IsQuiet(quiet, now) ? DeliveryMode.Inbox : mode;
    }

    /// <summary>Whether <paramref name="now"/> falls in the window (an unknown zone counts as UTC).</summary>
    public static bool IsQuiet(QuietHours quiet, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(quiet);
        if (!TryParseTime(quiet.Start, out var start) || !TryParseTime(quiet.End, out var end))
        {
            return false;
        }
        var zone = TimeZoneInfo.TryFindSystemTimeZoneById(quiet.TimeZone, out var found) ? found : TimeZoneInfo.Utc;
        var local = TimeOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, zone).DateTime);
        return start <= end ? local >= start && local < end : local >= start || local < end;
    }

    /// <summary>Parses <c>HH:mm</c>.</summary>
    public static bool TryParseTime(string? text, out TimeOnly time) =>
        TimeOnly.TryParseExact(text, "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out time);

    /// <summary>The stored JSON text of a preference document.</summary>
    public static string Serialize(NotificationPreferences preferences) => JsonSerializer.Serialize(preferences, NotifyJson.Options);

    /// <summary>Reads the stored JSON text of a preference document.</summary>
    public static NotificationPreferences Deserialize(string json)
    {
        var read = JsonSerializer.Deserialize<NotificationPreferences>(json, NotifyJson.Options) ?? NotificationPreferences.Empty;
        return read with { Types = new Dictionary<string, IReadOnlyDictionary<string, DeliveryMode>>(read.Types, StringComparer.Ordinal) };
    }

    private static DeliveryMode? Find(NotificationPreferences preferences, string type, string channel) =>
        Lookup(preferences, type, channel) ?? Lookup(preferences, AnyType, channel);

    private static DeliveryMode? Lookup(NotificationPreferences preferences, string type, string channel) =>
        preferences.Types.TryGetValue(type, out var channels) && channels.TryGetValue(channel, out var mode) ? mode : null;
}
