using System.Buffers;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Notify.Realtime.Connections;
using Notify.Realtime.Options;
using Notify.Realtime.Sessions;

namespace Notify.Realtime.Transports;

/// <summary>
/// Server-Sent Events transport: the same connections and frames as the WebSocket, written as
/// <c>event:</c>/<c>data:</c> records (the frame's <c>data</c> object as the event data, the
/// notification id as the event <c>id:</c> so <c>Last-Event-ID</c> resumes). Never buffered. Its
/// lifetime is the <see cref="ConnectionSession"/>'s; refusals are HTTP statuses with problem details.
/// </summary>
internal sealed class SseTransport(ConnectionSession session, IOptionsMonitor<SseOptions> sseOptions)
{
    /// <summary>Runs an SSE stream until it ends (the session disposes the stream).</summary>
    public Task RunAsync(HttpContext context, StreamKind kind, string? resourceId) =>
        session.RunAsync(new EventStream(context, kind, resourceId, sseOptions.CurrentValue.RetryMilliseconds), HttpStreamRequest.Read(context, kind, resourceId));

    private sealed class EventStream(HttpContext context, StreamKind kind, string? resourceId, int retryMilliseconds) : IStreamTransport
    {
        private CancellationTokenRegistration _clientGone;

        public string Name => "sse";

        public bool IsSse => true;

        public Task AcceptAsync() => Task.CompletedTask;

        public async Task RefuseAsync(Refusal refusal)
        {
            if (context.Response.HasStarted || context.RequestAborted.IsCancellationRequested)
            {
                return;
            }
            try
            {
                await (refusal switch
                {
                    Refusal.InstanceFull => HttpStreamRequest.RefuseInstanceFullAsync(context),
                    Refusal.Unauthorized => Problem(StatusCodes.Status401Unauthorized, "Token missing, invalid or expired."),
                    Refusal.NotAdmin => Problem(StatusCodes.Status403Forbidden, "Admin role required."),
                    // Someone else's task is indistinguishable from a missing one.
                    Refusal.NotFound => Problem(StatusCodes.Status404NotFound, $"{kind} {resourceId} not found."),
                    Refusal.TooManyConnections => Problem(StatusCodes.Status429TooManyRequests, "Too many connections for this user (Realtime:MaxConnectionsPerUser)."),
                    _ => HttpStreamRequest.RefuseSetupFailedAsync(context),
                });
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
            {
            }
        }

        public async Task<bool> OpenAsync(ClientConnection connection, CancellationToken cancellationToken)
        {
            var response = context.Response;
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache, no-transform";
            response.Headers["X-Accel-Buffering"] = "no";
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            try
            {
                await response.BodyWriter.WriteAsync(Encoding.UTF8.GetBytes($"retry: {retryMilliseconds.ToString(CultureInfo.InvariantCulture)}\n\n"), cancellationToken);
                await response.BodyWriter.FlushAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
            {
                return false;
            }
            _clientGone = context.RequestAborted.Register(() => connection.Close(CloseReason.ClientClosed));
            return true;
        }

        /// <summary>One queued frame as an SSE record, buffered until <see cref="FlushAsync"/> (after each batch of queued frames); a stream's last frame is flushed at once.</summary>
        public ValueTask WriteAsync(OutboundFrame outbound)
        {
            var body = context.Response.BodyWriter;
            var frame = outbound.Frame;
            var info = frame.Info;
            if (info.Type is null)
            {
                return ValueTask.CompletedTask;
            }
            if (info.Type == "notification" && info.Id is not null)
            {
                Write(body, "id: ");
                Write(body, info.Id);
                Write(body, "\n");
            }
            Write(body, "event: ");
            Write(body, info.Type);
            Write(body, "\ndata: ");
            body.Write(info.DataStart >= 0 ? frame.Bytes.Span.Slice(info.DataStart, info.DataLength) : "{}"u8);
            Write(body, "\n\n");
            return outbound.EndsStream ? FlushAsync() : ValueTask.CompletedTask;
        }

        /// <summary>No cancellation token (a cancellable flush allocates each time): a flush that hangs after the close ends when the session aborts the request.</summary>
        public ValueTask FlushAsync()
        {
            var flush = context.Response.BodyWriter.FlushAsync(CancellationToken.None);
            return flush.IsCompletedSuccessfully ? ValueTask.CompletedTask : new ValueTask(flush.AsTask());
        }

        public bool IsClientGone(Exception exception) =>
            exception is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException;

        /// <summary>Nothing to send: the response ends when the session returns.</summary>
        public Task CloseAsync(ClientConnection connection, CancellationToken abort) => Task.CompletedTask;

        /// <summary>An SSE client sends nothing: there is only its going away (see <see cref="OpenAsync"/>), which closes the connection.</summary>
        public Task ReadAsync(ClientConnection connection, ClientFrameDispatcher frames, CancellationToken abort) =>
            connection.WhenClosing();

        public void Abort() => context.Abort();

        private Task Problem(int status, string detail) => TypedResults.Problem(detail, statusCode: status).ExecuteAsync(context);

        public void Dispose() => _clientGone.Dispose();

        private static void Write(IBufferWriter<byte> writer, string text) => Encoding.UTF8.GetBytes(text, writer);
    }
}
