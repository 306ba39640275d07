using Notify.Core.Messaging;
using Notify.Core.Preferences;
using Notify.Realtime.Connections;

namespace Notify.Realtime.Preferences;

/// <summary>
/// One notification stream's view of its user's preferences for broadcasts and channel messages: a
/// <c>message</c> frame whose payload <c>type</c> the user (or the admin's defaults) set to <c>off</c> on
/// <c>in_app</c>, or whose channel has an explicit <c>channel:&lt;name&gt;</c> entry set to <c>off</c>, is
/// dropped for this connection, live and in replay. The user's part is reloaded when a <c>preferences</c>
/// frame (the user changed them) passes on the user's topic; the defaults come from
/// <see cref="PreferenceFilters"/>. Connections whose preferences turn nothing off pay one flag check per frame;
/// the others look at the frame's channel and payload type, read once per frame on the instance (<see cref="SharedFrame.Info"/>).
/// </summary>
internal sealed class MessagePreferenceFilter(PreferenceFilters owner, string userId, NotificationPreferences user)
{
    private volatile OffPreferences _user = OffPreferences.Of(user);
    private int _reloadRequests;

    /// <summary>The entry prefix that names a channel (<c>channel:news</c>) rather than a type.</summary>
    public const string ChannelPrefix = "channel:";

    /// <summary>
    /// Whether a live frame, arriving on <paramref name="topic"/> at <paramref name="now"/> (the fan-out's time,
    /// read once for all its receivers), is not for this user.
    /// </summary>
    public bool Drops(BusTopic topic, SharedFrame frame, DateTimeOffset now)
    {
        if (topic.Kind == BusTopicKind.User)
        {
            if (frame.Info.Type == "preferences")
            {
                Reload();
            }
            return false;
        }
        return IsMessageTopic(topic) && TurnsSomethingOff(owner.DefaultsAt(now), out var user, out var defaults) && IsOff(user, defaults, frame.Info);
    }

    /// <summary>Whether a broadcast or channel frame from history on <paramref name="topic"/> is not for this user.</summary>
    public bool Drops(BusTopic topic, ReadOnlySpan<byte> frame) =>
        IsMessageTopic(topic) && TurnsSomethingOff(owner.Defaults, out var user, out var defaults) && IsOff(user, defaults, FrameInfo.Read(frame));

    private static bool IsMessageTopic(BusTopic topic) => topic.Kind is BusTopicKind.Broadcast or BusTopicKind.Channel;

    private bool TurnsSomethingOff(OffPreferences currentDefaults, out OffPreferences user, out OffPreferences defaults)
    {
        user = _user;
        defaults = currentDefaults;
        return user.HasOff || defaults.HasOff;
    }

    private static bool IsOff(OffPreferences user, OffPreferences defaults, FrameInfo frame) =>
        frame is { Type: "message", Channel: { } channel } && IsOff(user, defaults, channel, frame.PayloadType);

    /// <summary>Whether <paramref name="type"/> on <paramref name="channel"/> is off for the user (allocates nothing).</summary>
    internal static bool IsOff(OffPreferences user, OffPreferences defaults, string channel, string? type)
    {
        if ((user.ForChannel(channel) ?? defaults.ForChannel(channel)) == DeliveryMode.Off)
        {
            return true;
        }
        return type is not null
            && PreferenceResolver.Resolve(user.Preferences, defaults.Preferences, type, PreferenceChannels.InApp, DateTimeOffset.UnixEpoch) == DeliveryMode.Off;
    }

    // Preferences frames that arrive while a reload runs make it run once more, so the last change wins.
    private void Reload()
    {
        if (Interlocked.Increment(ref _reloadRequests) == 1)
        {
            _ = ReloadAsync();
        }
    }

    private async Task ReloadAsync()
    {
        int requests;
        do
        {
            requests = Volatile.Read(ref _reloadRequests);
            if (await owner.TryLoadUserAsync(userId) is { } loaded)
            {
                _user = OffPreferences.Of(loaded);
            }
        }
        while (Interlocked.CompareExchange(ref _reloadRequests, 0, requests) != requests);
    }
}

/// <summary>
/// Preferences as the fan-out reads them, worked out once when they are loaded: whether any entry turns
/// <c>in_app</c> off (asked of every connection for every broadcast frame), the explicit <c>channel:&lt;name&gt;</c>
/// entries by channel name (so a frame's channel needs no key built per connection), and no quiet hours (off never
/// depends on them, and they would cost a time-zone conversion per frame).
/// </summary>
internal sealed class OffPreferences
{
    // Null without channel entries (most users): nothing to hold per connection.
    private readonly Dictionary<string, DeliveryMode>? _channels;

    public OffPreferences(NotificationPreferences preferences)
    {
        Preferences = preferences with { QuietHours = null };
        foreach (var (key, modes) in preferences.Types)
        {
            if (!modes.TryGetValue(PreferenceChannels.InApp, out var mode))
            {
                continue;
            }
            HasOff |= mode == DeliveryMode.Off;
            if (key.StartsWith(MessagePreferenceFilter.ChannelPrefix, StringComparison.Ordinal))
            {
                (_channels ??= new Dictionary<string, DeliveryMode>(StringComparer.Ordinal))[key[MessagePreferenceFilter.ChannelPrefix.Length..]] = mode;
            }
        }
    }

    public static OffPreferences Empty { get; } = new(NotificationPreferences.Empty);

    /// <summary>The fan-out's view of <paramref name="preferences"/>; one shared instance for every user without entries (quiet hours alone turn nothing off).</summary>
    public static OffPreferences Of(NotificationPreferences preferences) =>
        preferences.Types.Count == 0 ? Empty : new OffPreferences(preferences);

    /// <summary>The preferences without their quiet hours.</summary>
    public NotificationPreferences Preferences { get; }

    /// <summary>Whether some type or channel is <c>off</c> for <c>in_app</c>.</summary>
    public bool HasOff { get; }

    /// <summary>The <c>in_app</c> mode of the explicit <c>channel:&lt;name&gt;</c> entry for <paramref name="channel"/>; null without one.</summary>
    public DeliveryMode? ForChannel(string channel) => _channels is not null && _channels.TryGetValue(channel, out var mode) ? mode : null;
}
