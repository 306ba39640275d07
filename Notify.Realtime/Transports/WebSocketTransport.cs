using System.Buffers;
using System.Net.WebSockets;
using Microsoft.Extensions.Options;
using Notify.Realtime.Connections;
using Notify.Realtime.Options;
using Notify.Realtime.Sessions;

namespace Notify.Realtime.Transports;

/// <summary>
/// WebSocket transport: the frame writer (of the connection's write runs) and the client reader of each
/// stream, whichever way it was upgraded (<see cref="IWebSocketUpgrade"/>: the request pipeline, or the
/// connection itself); its lifetime is the
/// <see cref="ConnectionSession"/>'s. A full instance is refused with 503 before the upgrade; every other
/// refusal closes the accepted socket with its code (4001/4003/4008/1011), so browsers see it.
/// </summary>
internal sealed class WebSocketTransport(
    ConnectionSession session,
    IOptionsMonitor<RealtimeOptions> options,
    IOptions<CompressionOptions> compression,
    TimeProvider time)
{
    private readonly WebSocketAcceptContext _acceptContext = compression.Value.ToAcceptContext();

    /// <summary>A stream upgraded through the request pipeline (HTTP/2, HTTPS listeners, <c>Realtime:DirectUpgrade=false</c>, or a request the direct upgrade passed on).</summary>
    public async Task RunAsync(HttpContext context, StreamKind kind, string? resourceId)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await TypedResults.Problem("This endpoint needs a WebSocket upgrade request.", statusCode: StatusCodes.Status400BadRequest).ExecuteAsync(context);
            return;
        }
        await RunAsync(new PipelineUpgrade(context, _acceptContext), HttpStreamRequest.Read(context, kind, resourceId));
    }

    /// <summary>A stream that <paramref name="upgrade"/> answers; runs until it ends (the session disposes the stream).</summary>
    public Task RunAsync(IWebSocketUpgrade upgrade, StreamRequest request) =>
        session.RunAsync(new WebSocketStream(upgrade, options.CurrentValue, time), request);

    /// <summary>The upgrade of the request pipeline: ASP.NET Core's WebSocket middleware answers.</summary>
    private sealed class PipelineUpgrade(HttpContext context, WebSocketAcceptContext acceptContext) : IWebSocketUpgrade
    {
        public Task<WebSocket> AcceptAsync() => context.WebSockets.AcceptWebSocketAsync(acceptContext);

        public Task RefuseAsync(Refusal refusal) => refusal == Refusal.InstanceFull
            ? HttpStreamRequest.RefuseInstanceFullAsync(context)
            : HttpStreamRequest.RefuseSetupFailedAsync(context);

        /// <summary>Nothing beyond the socket's abort: that ends the upgraded request, and Kestrel the connection.</summary>
        public void Abort()
        {
        }

        public bool AbortEndsReceive => false;
    }

    private sealed class WebSocketStream(IWebSocketUpgrade upgrade, RealtimeOptions options, TimeProvider time) : IStreamTransport
    {
        private WebSocket? _socket;

        public string Name => "websocket";

        public bool IsSse => false;

        private WebSocket Socket => _socket ?? throw new InvalidOperationException("The WebSocket is not accepted yet.");

        public async Task AcceptAsync() => _socket = await upgrade.AcceptAsync();

        /// <summary>Nothing to start: the upgrade was the response, and the reader sees the client's close.</summary>
        public Task<bool> OpenAsync(ClientConnection connection, CancellationToken cancellationToken) => Task.FromResult(true);

        public async Task RefuseAsync(Refusal refusal)
        {
            if (_socket is null)
            {
                // Not upgraded: the instance is full, or the upgrade itself failed.
                try
                {
                    await upgrade.RefuseAsync(refusal);
                }
                catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
                {
                }
                return;
            }
            if (_socket.State != WebSocketState.Open)
            {
                return;
            }
            var reason = refusal switch
            {
                Refusal.Unauthorized => CloseReason.Unauthorized,
                Refusal.NotAdmin or Refusal.NotFound => CloseReason.Forbidden,
                Refusal.TooManyConnections => CloseReason.TooManyConnections,
                _ => CloseReason.InternalError,
            };
            using var timeout = new CancellationTokenSource(options.CloseTimeout, time);
            try
            {
                await _socket.CloseOutputAsync((WebSocketCloseStatus)reason.Code, ServerFrames.CloseDescription(reason.Name), timeout.Token);
                // Wait for the client's close so the code is not lost in a reset.
                var buffer = new byte[256];
                while (_socket.State == WebSocketState.CloseSent)
                {
                    var result = await _socket.ReceiveAsync(buffer.AsMemory(), timeout.Token);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        break;
                    }
                }
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
            {
                _socket.Abort();
            }
        }

        /// <summary>
        /// One queued frame, as a text message. Sends take no cancellation token, so a delivery allocates
        /// nothing per connection (a cancellable send registers a callback each time): a send that hangs past
        /// <c>Realtime:CloseTimeout</c> after the close ends when the session aborts the socket.
        /// </summary>
        public ValueTask WriteAsync(OutboundFrame frame) =>
            Socket.SendAsync(frame.Bytes, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

        /// <summary>Nothing to flush: every send is written to the connection.</summary>
        public ValueTask FlushAsync() => ValueTask.CompletedTask;

        public bool IsClientGone(Exception exception) =>
            exception is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException;

        /// <summary>Sends the close frame with the close reason's code (1000 when the client closed first).</summary>
        public async Task CloseAsync(ClientConnection connection, CancellationToken abort)
        {
            var socket = Socket;
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

        /// <summary>
        /// Reads client messages until the client closes (then closes the connection). An idle connection holds no buffer: it waits with a
        /// zero-byte read, without a cancellation token when the upgrade's abort ends it anyway. A message
        /// beyond <c>Realtime:MaxMessageBytes</c> is read to its end and dropped.
        /// </summary>
        public async Task ReadAsync(ClientConnection connection, ClientFrameDispatcher frames, CancellationToken abort)
        {
            var socket = Socket;
            var max = options.MaxMessageBytes;
            var idle = upgrade.AbortEndsReceive ? CancellationToken.None : abort;
            try
            {
                while (true)
                {
                    var first = await socket.ReceiveAsync(Memory<byte>.Empty, idle);
                    if (first.MessageType == WebSocketMessageType.Close)
                    {
                        return;
                    }
                    var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(4096, max + 1));
                    try
                    {
                        var count = 0;
                        var tooBig = false;
                        var result = first;
                        while (!result.EndOfMessage)
                        {
                            if (count == buffer.Length)
                            {
                                if (buffer.Length > max)
                                {
                                    tooBig = true;
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
                                tooBig = true;
                            }
                        }
                        var message = tooBig
                            ? new ClientMessage(default, TooBig: true)
                            : new ClientMessage(buffer.AsMemory(0, count), IsBinary: first.MessageType == WebSocketMessageType.Binary);
                        await frames.DispatchAsync(connection, message, abort);
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
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                connection.Fail(ex);
            }
            finally
            {
                connection.Close(CloseReason.ClientClosed);
            }
        }

        public void Abort()
        {
            _socket?.Abort();
            upgrade.Abort();
        }

        public void Dispose() => _socket?.Dispose();
    }
}
