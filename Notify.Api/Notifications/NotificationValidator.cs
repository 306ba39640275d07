using System.Text.Json;
using System.Text.RegularExpressions;
using Notify.Core.Json;
using Notify.Core.Notifications;

namespace Notify.Api.Notifications;

/// <summary>
/// Checks request fields against PROTOCOL.md §2. Errors are keyed by the snake_case field name, the way
/// the client sent it, and become a 400 validation problem.
/// </summary>
internal static partial class NotificationValidator
{
    /// <summary>Longest user id accepted.</summary>
    public const int UserIdMaxLength = 128;

    /// <summary>Longest <c>Idempotency-Key</c> header accepted.</summary>
    public const int IdempotencyKeyMaxLength = 200;

    /// <summary>Longest cursor (<c>before</c>) accepted; ids are 26-character ULIDs or 24-character ObjectIds.</summary>
    public const int CursorMaxLength = 64;

    public static Dictionary<string, string[]> Validate(CreateNotificationRequest request)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        UserId(errors, "user_id", request.UserId);
        Token(errors, "type", request.Type, NotificationLimits.TypeMaxLength, required: true);
        Text(errors, "title", request.Title, NotificationLimits.TitleMaxLength, required: true);
        Text(errors, "content", request.Content, NotificationLimits.ContentMaxLength, required: false);
        Text(errors, "link", request.Link, NotificationLimits.LinkMaxLength, required: false);
        Token(errors, "source", request.Source, NotificationLimits.SourceMaxLength, required: false);
        Severity(errors, "severity", request.Severity);
        Metadata(errors, "metadata", request.Metadata);
        return errors;
    }

    public static Dictionary<string, string[]> Validate(SendNotificationRequest request)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        UserId(errors, "target_user", request.TargetUser);
        Token(errors, "notification_type", request.NotificationType, NotificationLimits.TypeMaxLength, required: true);
        Text(errors, "content", request.Content, NotificationLimits.ContentMaxLength, required: true);
        if (request.Channel is not null && !Matches(ChannelRegex(), request.Channel))
        {
            errors["channel"] = [$"must match {NotificationLimits.ChannelPattern}."];
        }
        Metadata(errors, "data", request.Data);
        return errors;
    }

    public static Dictionary<string, string[]> Validate(BroadcastRequest request)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        Token(errors, "type", request.Type, NotificationLimits.TypeMaxLength, required: true);
        Text(errors, "content", request.Content, NotificationLimits.ContentMaxLength, required: true);
        Text(errors, "title", request.Title, NotificationLimits.TitleMaxLength, required: false);
        Severity(errors, "level", request.Level);
        if (request.Channel is { } channel)
        {
            if (!Matches(ChannelRegex(), channel))
            {
                errors["channel"] = [$"must match {NotificationLimits.ChannelPattern}."];
            }
            else if (!IsBroadcastChannel(channel))
            {
                errors["channel"] = ["must be a public:* channel, a user:<id> channel, admin or admin:*."];
            }
        }
        return errors;
    }

    /// <summary>Checks the list call's query; returns the parsed status.</summary>
    public static Dictionary<string, string[]> ValidateQuery(string? status, string? type, int? limit, string? before, out NotificationStatus? parsedStatus)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        parsedStatus = null;
        switch (status)
        {
            case null or "": break;
            case "unread": parsedStatus = NotificationStatus.Unread; break;
            case "read": parsedStatus = NotificationStatus.Read; break;
            default: errors["status"] = ["must be unread or read."]; break;
        }
        if (!string.IsNullOrEmpty(type))
        {
            Token(errors, "type", type, NotificationLimits.TypeMaxLength, required: false);
        }
        if (limit is < 1 or > 100)
        {
            errors["limit"] = ["must be between 1 and 100."];
        }
        if (!string.IsNullOrEmpty(before) && !IsId(before))
        {
            errors["before"] = ["is not a notification id."];
        }
        return errors;
    }

    /// <summary>Whether <paramref name="key"/> is an acceptable <c>Idempotency-Key</c>: 1..200 printable ASCII characters.</summary>
    public static bool IsIdempotencyKey(string key) =>
        key.Length is > 0 and <= IdempotencyKeyMaxLength && key.All(c => c is >= '!' and <= '~');

    /// <summary>Whether <paramref name="id"/> can be a notification id (anything else is simply not found).</summary>
    public static bool IsId(string id) => id.Length <= CursorMaxLength && Matches(IdRegex(), id);

    public static NotificationSeverity ParseSeverity(string? value) => value switch
    {
        "success" => NotificationSeverity.Success,
        "warning" => NotificationSeverity.Warning,
        "error" => NotificationSeverity.Error,
        _ => NotificationSeverity.Info,
    };

    // user:<id> is one user's own channel: only that user may join it (Realtime checks), so publishing to it
    // reaches that user's subscribed connections, with the channel's history for resume.
    private static bool IsBroadcastChannel(string channel) =>
        channel.StartsWith("public:", StringComparison.Ordinal) || channel.StartsWith("user:", StringComparison.Ordinal) && channel.Length > "user:".Length
        || channel == "admin" || channel.StartsWith("admin:", StringComparison.Ordinal);

    private static void UserId(Dictionary<string, string[]> errors, string field, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors[field] = ["is required."];
        }
        else if (value.Length > UserIdMaxLength)
        {
            errors[field] = [$"must be at most {UserIdMaxLength} characters."];
        }
        else if (value.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            errors[field] = ["must not contain whitespace or control characters."];
        }
    }

    private static void Token(Dictionary<string, string[]> errors, string field, string? value, int max, bool required)
    {
        if (string.IsNullOrEmpty(value))
        {
            if (required)
            {
                errors[field] = ["is required."];
            }
        }
        else if (value.Length > max)
        {
            errors[field] = [$"must be at most {max} characters."];
        }
        else if (!Matches(TokenRegex(), value))
        {
            errors[field] = [$"must match {NotificationLimits.TokenPattern}."];
        }
    }

    private static void Text(Dictionary<string, string[]> errors, string field, string? value, int max, bool required)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            if (required)
            {
                errors[field] = ["is required."];
            }
        }
        else if (value.Length > max)
        {
            errors[field] = [$"must be at most {max} characters."];
        }
    }

    private static void Severity(Dictionary<string, string[]> errors, string field, string? value)
    {
        if (value is not (null or "info" or "success" or "warning" or "error"))
        {
            errors[field] = ["must be info, success, warning or error."];
        }
    }

    private static void Metadata(Dictionary<string, string[]> errors, string field, JsonElement? value)
    {
        if (value is not { } element || element.ValueKind == JsonValueKind.Null)
        {
            return;
        }
        if (element.ValueKind != JsonValueKind.Object)
        {
            errors[field] = ["must be a JSON object."];
        }
        else if (JsonSerializer.SerializeToUtf8Bytes(element, NotifyJson.Options).Length > NotificationLimits.MetadataMaxBytes)
        {
            errors[field] = [$"must be at most {NotificationLimits.MetadataMaxBytes} bytes serialized."];
        }
    }

    // "$" also matches before a final newline; a value ending in one is not a valid token.
    private static bool Matches(Regex regex, string value) => !value.EndsWith('\n') && regex.IsMatch(value);

    [GeneratedRegex(NotificationLimits.TokenPattern)]
    private static partial Regex TokenRegex();

    [GeneratedRegex(NotificationLimits.ChannelPattern)]
    private static partial Regex ChannelRegex();

    [GeneratedRegex("^[A-Za-z0-9]+$")]
    private static partial Regex IdRegex();
}
