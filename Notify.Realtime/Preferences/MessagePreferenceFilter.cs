using System.Text.Json;
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
/// <see cref="PreferenceFilters"/>. Connections whose preferences turn nothing off pay one flag check per frame.
/// </summary>
internal sealed class MessagePreferenceFilter(PreferenceFilters owner, string userId, NotificationPreferences user)
{
    private volatile NotificationPreferences _user = user;
    private int _reloadRequests;

    /// <summary>The entry prefix that names a channel (<c>channel:news</c>) rather than a type.</summary>
    public const string ChannelPrefix = "channel:";

    /// <summary>Whether a live frame, arriving on <paramref name="topic"/>, is not for this user.</summary>
    public bool Drops(BusTopic topic, SharedFrame frame)
    {
        if (topic.Kind == BusTopicKind.User)
        {
            if (frame.Info.Type == "preferences")
            {
                Reload();
            }
            return false;
        }
        return Drops(topic, frame.Bytes.Span);
    }

    /// <summary>Whether a broadcast or channel frame (live or from history) on <paramref name="topic"/> is not for this user.</summary>
    public bool Drops(BusTopic topic, ReadOnlySpan<byte> frame)
    {
        if (topic.Kind is not (BusTopicKind.Broadcast or BusTopicKind.Channel))
        {
            return false;
        }
        var user = _user;
        var defaults = owner.Defaults;
        if (!HasOff(user) && !HasOff(defaults))
        {
            return false;
        }
        return Read(frame) is var (channel, type) && IsOff(user, defaults, channel, type);
    }

    /// <summary>Whether <paramref name="type"/> on <paramref name="channel"/> is off for the user.</summary>
    internal static bool IsOff(NotificationPreferences user, NotificationPreferences defaults, string channel, string? type)
    {
        var channelKey = ChannelPrefix + channel;
        var forChannel = Explicit(user, channelKey) ?? Explicit(defaults, channelKey);
        if (forChannel == DeliveryMode.Off)
        {
            return true;
        }
        // Off never depends on quiet hours, so the time does not matter here.
        return type is not null
            && PreferenceResolver.Resolve(user, defaults, type, PreferenceChannels.InApp, DateTimeOffset.UnixEpoch) == DeliveryMode.Off;
    }

    private static DeliveryMode? Explicit(NotificationPreferences preferences, string key) =>
        preferences.Types.TryGetValue(key, out var channels) && channels.TryGetValue(PreferenceChannels.InApp, out var mode) ? mode : null;

    private static bool HasOff(NotificationPreferences preferences)
    {
        foreach (var channels in preferences.Types.Values)
        {
            if (channels.TryGetValue(PreferenceChannels.InApp, out var mode) && mode == DeliveryMode.Off)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The channel and the payload's <c>type</c> of a <c>message</c> frame; null for any other frame.</summary>
    private static (string Channel, string? Type)? Read(ReadOnlySpan<byte> frame)
    {
        try
        {
            var reader = new Utf8JsonReader(frame);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (!root.TryGetProperty("type", out var frameType) || !frameType.ValueEquals("message")
                || !root.TryGetProperty("data", out var data) || !data.TryGetProperty("channel", out var channel) || channel.ValueKind != JsonValueKind.String)
            {
                return null;
            }
            var type = data.TryGetProperty("payload", out var payload) && payload.ValueKind == JsonValueKind.Object
                       && payload.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String
                ? t.GetString()
                : null;
            return (channel.GetString()!, type);
        }
        catch (JsonException)
        {
            return null;
        }
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
                _user = loaded;
            }
        }
        while (Interlocked.CompareExchange(ref _reloadRequests, 0, requests) != requests);
    }
}
