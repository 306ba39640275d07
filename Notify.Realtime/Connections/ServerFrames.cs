using System.Text;
using System.Text.Json;
using Notify.Core.Json;
using Notify.Core.Notifications;

namespace Notify.Realtime.Connections;

/// <summary>The frames the Realtime service writes itself (PROTOCOL.md §3), each serialized once.</summary>
internal static class ServerFrames
{
    /// <summary>The bare-text answer to a bare <c>ping</c>.</summary>
    public static byte[] BarePong { get; } = "pong"u8.ToArray();

    public static byte[] Connected(string userId, string connectionId, DateTimeOffset now, TimeSpan heartbeat, long unreadCount) =>
        Frames.Serialize("connected", new ConnectedData(userId, connectionId, now, heartbeat.TotalSeconds, unreadCount));

    public static byte[] Notification(Notification notification) => Frames.Serialize("notification", notification);

    /// <summary><c>heartbeat</c> or <c>pong</c>: <c>timestamp</c> at top level (and in <c>data</c> for uniform readers).</summary>
    public static byte[] Timestamped(string type, DateTimeOffset now) =>
        JsonSerializer.SerializeToUtf8Bytes(new TimestampedFrame(type, now, new TimestampData(now)), NotifyJson.Options);

    /// <summary><c>subscribed</c>/<c>unsubscribed</c>: <c>channel</c> at top level and in <c>data</c>.</summary>
    public static byte[] Channel(string type, string channel) =>
        JsonSerializer.SerializeToUtf8Bytes(new ChannelFrame(type, channel, new ChannelData(channel)), NotifyJson.Options);

    public static byte[] Resync(string reason, string? channel) => Frames.Serialize("resync", new ResyncData(reason, channel));

    public static byte[] Error(string code, string message) => Frames.Serialize("error", new ErrorData(code, message));

    public static byte[] Read(string id) => Change("read", id);

    /// <summary>A <c>{type, data: {id}}</c> frame of an inbox change.</summary>
    public static byte[] Change(string type, string id) => Frames.Serialize(type, new ReadData(id));

    /// <summary>The frame type that tells of <paramref name="change"/>.</summary>
    public static string ChangeFrameType(InboxChange change) => change switch
    {
        InboxChange.Read => "read",
        InboxChange.Seen => "seen",
        InboxChange.Archive => "archived",
        _ => "unarchived",
    };

    public static byte[] SystemMessage(string message, string level, DateTimeOffset now) =>
        Frames.Serialize("system_message", new SystemMessageData(message, level, now));

    /// <summary>
    /// The <c>system_message</c> frame (<c>message</c>, <c>level</c>, <c>timestamp</c>) that an admin-channel
    /// <c>message</c> frame stands for when its payload's <c>type</c> is <c>system_message</c>: the Worker's
    /// task failures carry <c>message</c>, <c>level</c> and <c>timestamp</c>, an admin's broadcast carries
    /// <c>content</c> (or <c>title</c>) and <c>level</c> and takes the publication's <c>created_at</c>. Null otherwise.
    /// </summary>
    public static byte[]? SystemMessageFor(SharedFrame frame)
    {
        var info = frame.Info;
        var messageFrame = frame.Bytes.Span;
        if (info.Type != "message" || info.DataStart < 0 || messageFrame.Slice(info.DataStart, info.DataLength).IndexOf("system_message"u8) < 0)
        {
            return null;
        }
        try
        {
            var reader = new Utf8JsonReader(messageFrame.Slice(info.DataStart, info.DataLength));
            using var data = JsonDocument.ParseValue(ref reader);
            if (!data.RootElement.TryGetProperty("payload", out var payload) || payload.ValueKind != JsonValueKind.Object
                || Text(payload, "type") != "system_message")
            {
                return null;
            }
            var message = Text(payload, "message") ?? Text(payload, "content") ?? Text(payload, "title") ?? "";
            var level = Text(payload, "level") ?? "info";
            var timestamp = When(payload, "timestamp") ?? When(data.RootElement, "created_at") ?? DateTimeOffset.UnixEpoch;
            return SystemMessage(message, level, timestamp);
        }
        catch (JsonException)
        {
            return null;
        }

        static string? Text(JsonElement element, string name) =>
            element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

        static DateTimeOffset? When(JsonElement element, string name) =>
            element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.TryGetDateTimeOffset(out var at) ? at : null;
    }

    /// <summary>A short, valid close description (at most 123 bytes of UTF-8).</summary>
    public static string CloseDescription(string text) => Encoding.UTF8.GetByteCount(text) <= 123 ? text : text[..60];

    private sealed record ConnectedData(string UserId, string ConnectionId, DateTimeOffset ServerTime, double HeartbeatIntervalS, long UnreadCount);
    private sealed record TimestampedFrame(string Type, DateTimeOffset Timestamp, TimestampData Data);
    private sealed record TimestampData(DateTimeOffset Timestamp);
    private sealed record ChannelFrame(string Type, string Channel, ChannelData Data);
    private sealed record ChannelData(string Channel);
    private sealed record ResyncData(string Reason, string? Channel);
    private sealed record ErrorData(string Code, string Message);
    private sealed record ReadData(string Id);
    private sealed record SystemMessageData(string Message, string Level, DateTimeOffset Timestamp);
}

/// <summary>An inbox change a client can send over a WebSocket.</summary>
internal enum InboxChange
{
    Read,
    Seen,
    Archive,
    Unarchive,
}
