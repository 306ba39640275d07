using System.Text.Json;
using Microsoft.Extensions.Options;
using Notify.Realtime.Connections;
using Notify.Realtime.Options;
using Notify.Realtime.Streams;

namespace Notify.Realtime.Sessions;

/// <summary>
/// The one place client frames are handled (PROTOCOL.md §3): the connection's limits first (size, rate,
/// rejected frames), then one handler per frame type, whose answer is queued on the connection. A frame
/// the protocol does not know, or cannot read, is answered with an <c>error</c> frame and counted.
/// </summary>
internal sealed class ClientFrameDispatcher(
    ChannelSubscriptions channels,
    InboxChanges inbox,
    IOptionsMonitor<RealtimeOptions> options,
    TimeProvider time)
{
    private static readonly Task<byte[]?> NoAnswer = Task.FromResult<byte[]?>(null);

    /// <summary>
    /// Handles one client message: 1009 when it was too big, 4029 beyond <c>Realtime:ClientFrameRate</c> or
    /// past <c>Realtime:MaxClientErrors</c> rejected frames; otherwise its answer is queued. Ignored once the
    /// connection is closing. A store or bus failure is thrown (the session closes the connection with 1011).
    /// </summary>
    public async Task DispatchAsync(ClientConnection connection, ClientMessage message, CancellationToken cancellationToken)
    {
        if (connection.CloseReason is not null)
        {
            return;
        }
        if (message.TooBig)
        {
            connection.Close(CloseReason.MessageTooBig);
            return;
        }
        var o = options.CurrentValue;
        var budget = connection.ClientFrames ??= new ClientFrameBudget(o.ClientFrameRate, time);
        if (!budget.TryTake())
        {
            connection.Close(CloseReason.RateLimited);
            return;
        }
        var answer = message.IsBinary
            ? ServerFrames.Error("bad_request", "binary frames are not supported")
            : await AnswerAsync(connection, message.Bytes, cancellationToken);
        if (answer is null)
        {
            return;
        }
        if (IsError(answer) && !budget.TryReject(o.MaxClientErrors))
        {
            connection.Close(CloseReason.RateLimited);
            return;
        }
        connection.Enqueue(answer);
    }

    private static bool IsError(byte[] frame) => frame.AsSpan().StartsWith("{\"type\":\"error\""u8);

    /// <summary>One client message → the answer to queue (or null when there is none, or the handler queued its own).</summary>
    private async Task<byte[]?> AnswerAsync(ClientConnection connection, ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        if (message.Span.SequenceEqual("ping"u8))
        {
            return ServerFrames.BarePong;
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(message);
        }
        catch (JsonException)
        {
            return ServerFrames.Error("bad_request", "malformed JSON");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            {
                return ServerFrames.Error("bad_request", "missing field: type");
            }
            var inbox = connection.Kind == StreamKind.Notifications;
            return await (type.GetString() switch
            {
                "ping" => Task.FromResult<byte[]?>(ServerFrames.Timestamped("pong", time.GetUtcNow())),
                "pong" or "heartbeat" => NoAnswer,
                "subscribe" => SubscribeAsync(connection, root, cancellationToken),
                "unsubscribe" => UnsubscribeAsync(connection, root, cancellationToken),
                "mark_read" when inbox => ChangeAsync(connection, InboxChange.Read, root, cancellationToken),
                "mark_seen" when inbox => ChangeAsync(connection, InboxChange.Seen, root, cancellationToken),
                "archive" when inbox => ChangeAsync(connection, InboxChange.Archive, root, cancellationToken),
                "unarchive" when inbox => ChangeAsync(connection, InboxChange.Unarchive, root, cancellationToken),
                var unknown => Task.FromResult<byte[]?>(ServerFrames.Error("unknown_type", $"unknown frame type {Truncate(unknown)}")),
            });
        }
    }

    private Task<byte[]?> SubscribeAsync(ClientConnection connection, JsonElement frame, CancellationToken cancellationToken)
    {
        if (String(frame, "channel") is not { } channel)
        {
            return Task.FromResult<byte[]?>(ServerFrames.Error("bad_request", "missing field: channel"));
        }
        if (!TryGetSince(frame, out var since))
        {
            return Task.FromResult<byte[]?>(ServerFrames.Error("bad_request", "since must be a string: a channel offset such as 1700000000000-0"));
        }
        return channels.SubscribeAsync(connection, channel, since, cancellationToken);
    }

    private Task<byte[]?> UnsubscribeAsync(ClientConnection connection, JsonElement frame, CancellationToken cancellationToken) =>
        String(frame, "channel") is { } channel
            ? channels.UnsubscribeAsync(connection, channel, cancellationToken)
            : Task.FromResult<byte[]?>(ServerFrames.Error("bad_request", "missing field: channel"));

    private async Task<byte[]?> ChangeAsync(ClientConnection connection, InboxChange change, JsonElement frame, CancellationToken cancellationToken) =>
        String(frame, "id") is { } id
            ? await inbox.ChangeAsync(connection, change, id, cancellationToken)
            : ServerFrames.Error("bad_request", "missing field: id");

    /// <summary>The optional <c>since</c> of a subscribe: absent, null or empty is none; otherwise it must be a string (its format is checked on subscribe).</summary>
    private static bool TryGetSince(JsonElement frame, out string? since)
    {
        since = null;
        if (!frame.TryGetProperty("since", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return true;
        }
        if (value.ValueKind != JsonValueKind.String)
        {
            return false;
        }
        since = value.GetString() is { Length: > 0 } text ? text : null;
        return true;
    }

    private static string? String(JsonElement frame, string name) =>
        frame.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } s ? s : null;

    private static string Truncate(string? value) => value is null ? "" : value.Length <= 64 ? value : value[..64];
}
