using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Notify.Core.Auth;
using Notify.Realtime.Connections;
using Notify.Realtime.Options;
using Notify.Realtime.Streams;

namespace Notify.Realtime.Transports;

/// <summary>
/// WebSocket transport. An instance slot is taken before the upgrade (503 when the instance is full);
/// then accept, authenticate (closing with 4001/4003/4008 after accepting, so browsers see the code),
/// register, run (<see cref="StreamRunner"/>), and give everything back in the one <c>finally</c> of the
/// admission, whatever failed. A receive loop and the single writer loop run side by side.
/// </summary>
internal sealed class WebSocketTransport(
    ConnectionRegistry registry,
    StreamOpener opener,
    StreamRunner runner,
    NotifyTokens tokens,
    IOptionsMonitor<RealtimeOptions> options,
    IOptions<CompressionOptions> compression,
    StreamSettings settings,
    TimeProvider time,
    ILogger<WebSocketTransport> logger)
{
    private readonly WebSocketAcceptContext _acceptContext = compression.Value.ToAcceptContext();

    public async Task RunAsync(HttpContext context, StreamKind kind, string? resourceId)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await TypedResults.Problem("This endpoint needs a WebSocket upgrade request.", statusCode: StatusCodes.Status400BadRequest).ExecuteAsync(context);
            return;
        }
        await using var admission = registry.TryAdmit();
        if (admission is null)
        {
            await StreamAuth.RefuseInstanceFullAsync(context, options.CurrentValue.MaxConnections, logger);
            return;
        }
        using var socket = await context.WebSockets.AcceptWebSocketAsync(_acceptContext);
        try
        {
            var (identity, error) = await StreamAuth.AuthenticateAsync(context, tokens);
            if (identity is null)
            {
                await RejectAsync(socket, CloseReason.Unauthorized, error ?? "invalid token");
                return;
            }
            if (kind == StreamKind.Admin && !identity.IsAdmin)
            {
                await RejectAsync(socket, CloseReason.Forbidden, "admin role required");
                return;
            }
            if (kind == StreamKind.Task && await opener.FindTaskAsync(resourceId!, identity.UserId, identity.IsAdmin, context.RequestAborted) is null)
            {
                await RejectAsync(socket, CloseReason.Forbidden, "not the task's owner");
                return;
            }
            if (!admission.TryClaimUser(identity.UserId))
            {
                await RejectAsync(socket, CloseReason.TooManyConnections, "connection limit reached");
                return;
            }

            var now = time.GetUtcNow();
            var connection = new ClientConnection(Guid.NewGuid().ToString("N"), identity.UserId, identity.IsAdmin, kind, options.CurrentValue.SendQueueCapacity, identity.ExpiresAt, now)
            {
                HeartbeatInterval = settings.WebSocketHeartbeat,
                NextHeartbeat = now + settings.WebSocketHeartbeat,
            };
            admission.Register(connection);
            RealtimeLog.Opened(logger, connection.Id, connection.UserId, kind.ToString(), "websocket");
            await runner.RunAsync(
                connection,
                resourceId,
                StreamAuth.LastId(context),
                abort => WriteLoopAsync(socket, connection, abort),
                abort => ReceiveLoopAsync(socket, connection, abort),
                socket.Abort);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Setting the stream up failed before it ran (e.g. Redis unreachable while looking up the task).
            RealtimeLog.ConnectionFailed(logger, ex, "(not opened)");
            if (socket.State == WebSocketState.Open)
            {
                await RejectAsync(socket, CloseReason.InternalError, "stream setup failed");
            }
        }
    }

    private async Task RejectAsync(WebSocket socket, CloseReason reason, string detail)
    {
        RealtimeLog.Rejected(logger, reason.Code, reason.Name, detail);
        using var timeout = new CancellationTokenSource(options.CurrentValue.CloseTimeout, time);
        try
        {
            await socket.CloseOutputAsync((WebSocketCloseStatus)reason.Code, ServerFrames.CloseDescription(reason.Name), timeout.Token);
            // Wait for the client's close so the code is not lost in a reset.
            var buffer = new byte[256];
            while (socket.State == WebSocketState.CloseSent)
            {
                var result = await socket.ReceiveAsync(buffer.AsMemory(), timeout.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            socket.Abort();
        }
    }

    /// <summary>
    /// The one writer of the connection: drains its queue until it closes, then sends the close frame.
    /// Waits and sends take no cancellation token, so a delivery allocates nothing per connection (a
    /// cancellable wait or send registers a callback each time): closing completes the queue, which
    /// ends the wait, and a send that hangs past <c>Realtime:CloseTimeout</c> ends when the runner aborts the socket.
    /// </summary>
    private async Task WriteLoopAsync(WebSocket socket, ClientConnection connection, CancellationToken abort)
    {
        var reader = connection.Outbound;
        try
        {
            while (!connection.Closing.IsCancellationRequested && await reader.WaitToReadAsync(CancellationToken.None))
            {
                while (!connection.Closing.IsCancellationRequested && reader.TryRead(out var frame))
                {
                    await socket.SendAsync(frame.Bytes, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
                    if (frame.EndsStream)
                    {
                        connection.Close(CloseReason.Normal);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
        {
        }

        var reason = connection.CloseReason ?? CloseReason.ClientClosed;
        if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived && !abort.IsCancellationRequested)
        {
            var status = reason == CloseReason.ClientClosed ? WebSocketCloseStatus.NormalClosure : (WebSocketCloseStatus)reason.Code;
            try
            {
                await socket.CloseOutputAsync(status, ServerFrames.CloseDescription(reason.Name), abort);
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
            {
            }
        }
    }

    /// <summary>Reads client messages until the client closes. Idle connections hold no buffer: it waits with a zero-byte read.</summary>
    private async Task ReceiveLoopAsync(WebSocket socket, ClientConnection connection, CancellationToken abort)
    {
        var o = options.CurrentValue;
        var max = o.MaxMessageBytes;
        FrameRateLimiter? limiter = null;
        var errors = 0;
        try
        {
            while (true)
            {
                var first = await socket.ReceiveAsync(Memory<byte>.Empty, abort);
                if (first.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
                var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(4096, max + 1));
                try
                {
                    var count = 0;
                    var oversize = false;
                    var result = first;
                    while (!result.EndOfMessage)
                    {
                        if (count == buffer.Length)
                        {
                            if (buffer.Length > max)
                            {
                                oversize = true;
                                count = 0;
                            }
                            else
                            {
                                var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, max + 1));
                                buffer.AsSpan(0, count).CopyTo(bigger);
                                ArrayPool<byte>.Shared.Return(buffer);
                                buffer = bigger;
                            }
                        }
                        result = await socket.ReceiveAsync(buffer.AsMemory(count), abort);
                        if (result.MessageType == WebSocketMessageType.Close)
                        {
                            return;
                        }
                        count += result.Count;
                        if (count > max)
                        {
                            oversize = true;
                        }
                    }
                    if (connection.CloseReason is not null)
                    {
                        continue;
                    }
                    if (oversize)
                    {
                        connection.Close(CloseReason.MessageTooBig);
                        continue;
                    }
                    limiter ??= new FrameRateLimiter(o.ClientFrameRate, time);
                    if (!limiter.TryTake())
                    {
                        connection.Close(CloseReason.RateLimited);
                        continue;
                    }
                    var answer = first.MessageType == WebSocketMessageType.Binary
                        ? ServerFrames.Error("bad_request", "binary frames are not supported")
                        : await HandleAsync(connection, buffer.AsMemory(0, count), abort);
                    if (answer is not null)
                    {
                        if (IsError(answer) && ++errors > o.MaxClientErrors)
                        {
                            connection.Close(CloseReason.RateLimited);
                            continue;
                        }
                        connection.Enqueue(answer);
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
        {
        }
    }

    private static bool IsError(byte[] frame) => frame.AsSpan().StartsWith("{\"type\":\"error\""u8);

    /// <summary>One client message → the answer to queue (or null when the handler queued its own).</summary>
    private async Task<byte[]?> HandleAsync(ClientConnection connection, ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
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
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
            {
                return ServerFrames.Error("bad_request", "missing field: type");
            }
            var type = typeElement.GetString();
            switch (type)
            {
                case "ping":
                    return ServerFrames.Timestamped("pong", time.GetUtcNow());
                case "pong":
                case "heartbeat":
                    return null;
                case "subscribe":
                    if (String(root, "channel") is not { } channel)
                    {
                        return ServerFrames.Error("bad_request", "missing field: channel");
                    }
                    if (!TryGetSince(root, out var since))
                    {
                        return ServerFrames.Error("bad_request", "since must be a string: a channel offset such as 1700000000000-0");
                    }
                    return await opener.SubscribeAsync(connection, channel, since, cancellationToken);
                case "unsubscribe":
                    if (String(root, "channel") is not { } leaving)
                    {
                        return ServerFrames.Error("bad_request", "missing field: channel");
                    }
                    return await opener.UnsubscribeAsync(connection, leaving, cancellationToken);
                case "mark_read" or "mark_seen" or "archive" or "unarchive" when connection.Kind == StreamKind.Notifications:
                    if (String(root, "id") is not { } id)
                    {
                        return ServerFrames.Error("bad_request", "missing field: id");
                    }
                    var change = type switch
                    {
                        "mark_read" => InboxChange.Read,
                        "mark_seen" => InboxChange.Seen,
                        "archive" => InboxChange.Archive,
                        _ => InboxChange.Unarchive,
                    };
                    return await opener.ChangeAsync(connection, change, id, cancellationToken);
                default:
                    return ServerFrames.Error("unknown_type", $"unknown frame type {Truncate(type)}");
            }
        }
    }


    /// <summary>The optional <c>since</c> of a subscribe: absent, null or empty is none; otherwise it must be a string (its format is checked on subscribe).</summary>
    private static bool TryGetSince(JsonElement root, out string? since)
    {
        since = null;
        if (!root.TryGetProperty("since", out var value) || value.ValueKind == JsonValueKind.Null)
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

    private static string? String(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } s ? s : null;

    private static string Truncate(string? value) => value is null ? "" : value.Length <= 64 ? value : value[..64];
}

/// <summary>Token bucket over client frames: <c>rate</c> per second with a burst of the same size.</summary>
internal sealed class FrameRateLimiter(int rate, TimeProvider time)
{
    private double _tokens = rate;
    private long _last = time.GetTimestamp();

    public bool TryTake()
    {
        var now = time.GetTimestamp();
        _tokens = Math.Min(rate, _tokens + time.GetElapsedTime(_last, now).TotalSeconds * rate);
        _last = now;
        if (_tokens < 1)
        {
            return false;
        }
        _tokens -= 1;
        return true;
    }
}
