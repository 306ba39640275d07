using System.Buffers;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Notify.Core.Auth;
using Notify.Realtime.Connections;
using Notify.Realtime.Options;
using Notify.Realtime.Streams;

namespace Notify.Realtime.Transports;

/// <summary>
/// Server-Sent Events transport: the same connections and frames as the WebSocket, written as
/// <c>event:</c>/<c>data:</c> records (the frame's <c>data</c> object as the event data, the
/// notification id as the event <c>id:</c> so <c>Last-Event-ID</c> resumes). Never buffered.
/// </summary>
internal sealed class SseTransport(
    ConnectionRegistry registry,
    StreamOpener opener,
    StreamRunner runner,
    NotifyTokens tokens,
    IOptionsMonitor<RealtimeOptions> options,
    IOptionsMonitor<SseOptions> sseOptions,
    StreamSettings settings,
    TimeProvider time,
    ILogger<SseTransport> logger)
{
    public async Task RunAsync(HttpContext context, StreamKind kind, string? resourceId)
    {
        // The instance slot first, then everything else; the admission gives all of it back in its one
        // finally, also when the first write fails because the client is already gone.
        await using var admission = registry.TryAdmit();
        if (admission is null)
        {
            await StreamAuth.RefuseInstanceFullAsync(context, options.CurrentValue.MaxConnections, logger);
            return;
        }
        try
        {
            await RunAdmittedAsync(context, admission, kind, resourceId);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException && !context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
        {
            // Setting the stream up failed before it ran (e.g. Redis unreachable while looking up the task).
            RealtimeLog.ConnectionFailed(logger, ex, "(not opened)");
            await TypedResults.Problem("The stream could not be set up; retry later.", statusCode: StatusCodes.Status503ServiceUnavailable).ExecuteAsync(context);
        }
    }

    private async Task RunAdmittedAsync(HttpContext context, ConnectionRegistry.Admission admission, StreamKind kind, string? resourceId)
    {
        var (identity, error) = await StreamAuth.AuthenticateAsync(context, tokens);
        if (identity is null)
        {
            RealtimeLog.Rejected(logger, StatusCodes.Status401Unauthorized, "unauthorized", error ?? "invalid token");
            await TypedResults.Problem("Token missing, invalid or expired.", statusCode: StatusCodes.Status401Unauthorized).ExecuteAsync(context);
            return;
        }
        if (kind == StreamKind.Task && await opener.FindTaskAsync(resourceId!, identity.UserId, identity.IsAdmin, context.RequestAborted) is null
            || kind == StreamKind.Batch && await opener.FindBatchAsync(resourceId!, identity.UserId, identity.IsAdmin, context.RequestAborted) is null)
        {
            // Someone else's task is indistinguishable from a missing one.
            await TypedResults.Problem($"{kind} {resourceId} not found.", statusCode: StatusCodes.Status404NotFound).ExecuteAsync(context);
            return;
        }
        if (!admission.TryClaimUser(identity.UserId))
        {
            RealtimeLog.Rejected(logger, StatusCodes.Status429TooManyRequests, "too many connections", identity.UserId);
            await TypedResults.Problem("Too many connections for this user (Realtime:MaxConnectionsPerUser).", statusCode: StatusCodes.Status429TooManyRequests).ExecuteAsync(context);
            return;
        }

        var sse = sseOptions.CurrentValue;
        var now = time.GetUtcNow();
        var heartbeat = settings.SseHeartbeat;
        var connection = new ClientConnection(Guid.NewGuid().ToString("N"), identity.UserId, identity.IsAdmin, kind, options.CurrentValue.SendQueueCapacity, identity.ExpiresAt, now)
        {
            IsSse = true,
            HeartbeatInterval = heartbeat,
            NextHeartbeat = now + heartbeat,
            IdleLimit = kind switch
            {
                StreamKind.Task => settings.TaskMaxIdle,
                StreamKind.Batch => settings.BatchMaxIdle,
                _ => null,
            },
        };

        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache, no-transform";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        try
        {
            await response.BodyWriter.WriteAsync(Encoding.UTF8.GetBytes($"retry: {sse.RetryMilliseconds.ToString(CultureInfo.InvariantCulture)}\n\n"), context.RequestAborted);
            await response.BodyWriter.FlushAsync(context.RequestAborted);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
            return;
        }

        admission.Register(connection);
        RealtimeLog.Opened(logger, connection.Id, connection.UserId, kind.ToString(), "sse");
        using var clientGone = context.RequestAborted.Register(() => connection.Close(CloseReason.ClientClosed));
        await runner.RunAsync(
            connection,
            resourceId,
            StreamAuth.LastId(context),
            abort => WriteLoopAsync(response, connection, abort),
            receive: null,
            context.Abort);
    }

    /// <summary>The one writer: frames to SSE records, flushed after each batch of queued frames.</summary>
    private static async Task WriteLoopAsync(HttpResponse response, ClientConnection connection, CancellationToken abort)
    {
        var reader = connection.Outbound;
        var body = response.BodyWriter;
        try
        {
            // No cancellation token on the wait (a cancellable wait allocates each time): closing completes the queue.
            while (!connection.Closing.IsCancellationRequested && await reader.WaitToReadAsync(CancellationToken.None))
            {
                while (!connection.Closing.IsCancellationRequested && reader.TryRead(out var outbound))
                {
                    var frame = outbound.Bytes;
                    var info = FrameInfo.Read(frame.Span);
                    if (info.Type is null)
                    {
                        continue;
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
                    body.Write(info.DataStart >= 0 ? frame.Span.Slice(info.DataStart, info.DataLength) : "{}"u8);
                    Write(body, "\n\n");
                    if (outbound.EndsStream)
                    {
                        await body.FlushAsync(abort);
                        connection.Close(CloseReason.Normal);
                    }
                }
                await body.FlushAsync(abort);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    private static void Write(IBufferWriter<byte> writer, string text) => Encoding.UTF8.GetBytes(text, writer);
}
