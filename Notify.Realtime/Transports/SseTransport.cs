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
    NotifyTokens tokens,
    IOptionsMonitor<RealtimeOptions> options,
    IOptionsMonitor<SseOptions> sseOptions,
    StreamSettings settings,
    TimeProvider time,
    ILogger<SseTransport> logger)
{
    public async Task RunAsync(HttpContext context, StreamKind kind, string? resourceId)
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
        var reserved = kind == StreamKind.Notifications;
        if (reserved && !registry.TryReserveUserStream(identity.UserId))
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
        await response.BodyWriter.WriteAsync(Encoding.UTF8.GetBytes($"retry: {sse.RetryMilliseconds.ToString(CultureInfo.InvariantCulture)}\n\n"), context.RequestAborted);
        await response.BodyWriter.FlushAsync(context.RequestAborted);

        RealtimeLog.Opened(logger, connection.Id, connection.UserId, kind.ToString(), "sse");
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        using var clientGone = context.RequestAborted.Register(() => connection.Close(CloseReason.ClientClosed));
        var writer = WriteLoopAsync(response, connection, abort.Token);
        try
        {
            if (kind is StreamKind.Task or StreamKind.Batch)
            {
                await opener.OpenProgressAsync(connection, resourceId!, connection.Closing);
                await opener.WatchProgressAsync(connection, resourceId!, kind == StreamKind.Task ? settings.TaskPollTimeout : settings.BatchPollInterval);
            }
            else
            {
                await opener.OpenAsync(connection, StreamAuth.LastId(context), connection.Closing);
            }
            await Task.WhenAny(writer, WebSocketTransport.WhenCancelled(connection.Closing));
        }
        catch (OperationCanceledException) when (connection.Closing.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            RealtimeLog.ConnectionFailed(logger, ex, connection.Id);
            connection.Close(CloseReason.InternalError);
        }
        finally
        {
            connection.Close(CloseReason.ClientClosed);
            if (await Task.WhenAny(writer, Task.Delay(options.CurrentValue.CloseTimeout, time)) != writer)
            {
                await abort.CancelAsync();
                context.Abort();
            }
            await writer;
            await registry.RemoveAsync(connection);
            if (reserved)
            {
                registry.ReleaseUserStream(connection.UserId);
            }
            var reason = connection.CloseReason!;
            RealtimeLog.Closed(logger, connection.Id, connection.UserId, reason.Code, reason.Name);
        }
    }

    /// <summary>The one writer: frames to SSE records, flushed after each batch of queued frames.</summary>
    private static async Task WriteLoopAsync(HttpResponse response, ClientConnection connection, CancellationToken abort)
    {
        var reader = connection.Outbound;
        var body = response.BodyWriter;
        var progress = connection.Kind is StreamKind.Task or StreamKind.Batch;
        try
        {
            while (await reader.WaitToReadAsync(connection.Closing))
            {
                while (!connection.Closing.IsCancellationRequested && reader.TryRead(out var frame))
                {
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
                    if (progress && info.IsTerminal)
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
