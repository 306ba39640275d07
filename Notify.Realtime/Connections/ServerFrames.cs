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

    public static byte[] Read(string id) => Frames.Serialize("read", new ReadData(id));

    public static byte[] SystemMessage(string message, string level, DateTimeOffset now) =>
        Frames.Serialize("system_message", new SystemMessageData(message, level, now));

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
