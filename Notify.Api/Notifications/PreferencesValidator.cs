using System.Text.Json;
using Notify.Core.Notifications;
using Notify.Core.Preferences;

namespace Notify.Api.Notifications;

/// <summary>
/// Reads a preferences body (<c>{"types": {type: {channel: mode}}, "quiet_hours": {...} | null}</c>) and names
/// every bad field by its path, e.g. <c>types.billing.in_app</c> or <c>quiet_hours.time_zone</c>.
/// </summary>
internal static class PreferencesValidator
{
    /// <summary>Most type entries in one document.</summary>
    public const int MaxTypes = 100;

    /// <summary>Longest time zone name accepted.</summary>
    public const int TimeZoneMaxLength = 64;

    public static Dictionary<string, string[]> Parse(JsonElement body, out NotificationPreferences preferences)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var types = new Dictionary<string, IReadOnlyDictionary<string, DeliveryMode>>(StringComparer.Ordinal);
        QuietHours? quiet = null;
        preferences = NotificationPreferences.Empty;
        if (body.ValueKind != JsonValueKind.Object)
        {
            errors["body"] = ["must be a JSON object."];
            return errors;
        }
        foreach (var property in body.EnumerateObject())
        {
            switch (property.Name)
            {
                case "types":
                    ParseTypes(errors, property.Value, types);
                    break;
                case "quiet_hours":
                    quiet = ParseQuietHours(errors, property.Value);
                    break;
                default:
                    errors[property.Name] = ["is not a preferences field (types, quiet_hours)."];
                    break;
            }
        }
        preferences = new NotificationPreferences { Types = types, QuietHours = quiet };
        return errors;
    }

    private static void ParseTypes(Dictionary<string, string[]> errors, JsonElement value, Dictionary<string, IReadOnlyDictionary<string, DeliveryMode>> types)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return;
        }
        if (value.ValueKind != JsonValueKind.Object)
        {
            errors["types"] = ["must be an object of type → {channel: mode}."];
            return;
        }
        foreach (var entry in value.EnumerateObject())
        {
            if (types.Count == MaxTypes)
            {
                errors["types"] = [$"must have at most {MaxTypes} entries."];
                return;
            }
            var field = "types." + entry.Name;
            if (entry.Name != PreferenceResolver.AnyType && !IsType(entry.Name))
            {
                errors[field] = [$"is not a type: * or at most {NotificationLimits.TypeMaxLength} characters of {NotificationLimits.TokenPattern}."];
                continue;
            }
            if (entry.Value.ValueKind != JsonValueKind.Object)
            {
                errors[field] = ["must be an object of channel → mode."];
                continue;
            }
            var channels = new Dictionary<string, DeliveryMode>(StringComparer.Ordinal);
            foreach (var channel in entry.Value.EnumerateObject())
            {
                var channelField = field + "." + channel.Name;
                if (!PreferenceChannels.All.Contains(channel.Name))
                {
                    errors[channelField] = [$"is not a channel: {string.Join(", ", PreferenceChannels.All)}."];
                }
                else if (ParseMode(channel.Value) is { } mode)
                {
                    channels[channel.Name] = mode;
                }
                else
                {
                    errors[channelField] = ["must be live, inbox or off."];
                }
            }
            types[entry.Name] = channels;
        }
    }

    private static QuietHours? ParseQuietHours(Dictionary<string, string[]> errors, JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.Object)
        {
            errors["quiet_hours"] = ["must be null or an object with start, end and time_zone."];
            return null;
        }
        var start = Text(value, "start");
        var end = Text(value, "end");
        var zone = Text(value, "time_zone");
        foreach (var property in value.EnumerateObject().Where(p => p.Name is not ("start" or "end" or "time_zone")))
        {
            errors["quiet_hours." + property.Name] = ["is not a quiet hours field (start, end, time_zone)."];
        }
        if (!PreferenceResolver.TryParseTime(start, out var from))
        {
            errors["quiet_hours.start"] = ["must be a time HH:mm (00:00 to 23:59)."];
        }
        if (!PreferenceResolver.TryParseTime(end, out var to))
        {
            errors["quiet_hours.end"] = ["must be a time HH:mm (00:00 to 23:59)."];
        }
        else if (from == to && start is not null && PreferenceResolver.TryParseTime(start, out _))
        {
            errors["quiet_hours.end"] = ["must differ from start."];
        }
        if (zone is not { Length: > 0 and <= TimeZoneMaxLength } || !TimeZoneInfo.TryFindSystemTimeZoneById(zone, out _))
        {
            errors["quiet_hours.time_zone"] = [$"must be an IANA time zone such as Europe/Berlin (at most {TimeZoneMaxLength} characters)."];
        }
        return new QuietHours(start ?? "", end ?? "", zone ?? "");
    }

    private static string? Text(JsonElement value, string name) =>
        value.TryGetProperty(name, out var property) && property.ValueKind == JsonValueKind.String ? property.GetString() : null;

    private static DeliveryMode? ParseMode(JsonElement value) => value.ValueKind != JsonValueKind.String ? null : value.GetString() switch
    {
        "live" => DeliveryMode.Live,
        "inbox" => DeliveryMode.Inbox,
        "off" => DeliveryMode.Off,
        _ => null,
    };

    private static bool IsType(string type) =>
        type.Length is > 0 and <= NotificationLimits.TypeMaxLength && !type.EndsWith('\n')
        && type.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or ':' or '-');
}
