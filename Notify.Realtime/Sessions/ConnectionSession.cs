using Microsoft.Extensions.Options;
using Notify.Core.Auth;
using Notify.Realtime.Connections;
using Notify.Realtime.Options;
using Notify.Realtime.Streams;

namespace Notify.Realtime.Sessions;

/// <summary>
/// The lifetime of every stream, whatever its transport: an instance slot before anything else (503 when
/// the instance is full), accept, authenticate and authorize, the user's slot, register, run, close with
/// the reason's code, and give everything back in the admission's one <c>finally</c>, whatever failed.
/// While it runs, queued frames are written by write runs of the transport (started on demand), the stream
/// opens (replay or snapshot), then the client reader and the progress watcher run beside it. A fault in any
/// part closes the connection (1011, <see cref="ClientConnection.Fail"/>) instead of escaping, and is logged
/// once at the close; once it closes, the last write run and the close frame, then the reader each get
/// <c>Realtime:CloseTimeout</c>, then the transport is aborted. It returns only once every part has stopped,
/// so the release sees a quiet connection.
/// </summary>
internal sealed class ConnectionSession(
    ConnectionRegistry registry,
    NotifyTokens tokens,
    NotificationReplay replay,
    ProgressStreams progress,
    ClientFrameDispatcher frames,
    StreamSettings settings,
    IOptionsMonitor<RealtimeOptions> options,
    TimeProvider time,
    ILogger<ConnectionSession> logger)
{
    /// <summary>
    /// Runs a stream on <paramref name="transport"/> to its end, and disposes the transport then. One method from
    /// admission to the close (not one per phase): an idle connection holds this method's state and the reader's,
    /// nothing else of the session.
    /// </summary>
    public async Task RunAsync(IStreamTransport transport, StreamRequest request)
    {
        using var owned = transport;
        await using var admission = registry.TryAdmit();
        if (admission is null)
        {
            RealtimeLog.InstanceFull(logger, options.CurrentValue.MaxConnections);
            await transport.RefuseAsync(Refusal.InstanceFull);
            return;
        }
        ClientConnection? connection;
        try
        {
            await transport.AcceptAsync();
            connection = await AdmitAsync(transport, request, admission);
            request.ForgetToken();
            if (connection is null || !await transport.OpenAsync(connection, request.Aborted))
            {
                return;
            }
            admission.Register(connection);
            RealtimeLog.Opened(logger, connection.Id, connection.UserId, request.Kind.ToString(), transport.Name);
        }
        catch (OperationCanceledException) when (request.Aborted.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Setting the stream up failed before it ran (e.g. Redis unreachable while looking up the task).
            RealtimeLog.ConnectionFailed(logger, ex, "(not opened)");
            await transport.RefuseAsync(Refusal.SetupFailed);
            return;
        }

        // Open: queued frames are written by write runs of the transport (started on demand), so an idle
        // connection holds no writer.
        using var abort = new CancellationTokenSource();
        connection.StartWriting(transport);
        var reader = Task.CompletedTask;
        var watcher = Task.CompletedTask;
        try
        {
            if (connection.Kind is StreamKind.Task or StreamKind.Batch)
            {
                await progress.OpenAsync(connection, request.ResourceId!, connection.Closing);
                var poll = connection.Kind == StreamKind.Task ? settings.TaskPollTimeout : settings.BatchPollInterval;
                watcher = WatchAsync(connection, request.ResourceId!, poll);
            }
            else
            {
                await replay.OpenAsync(connection, request.LastId, connection.Closing);
            }
            reader = transport.ReadAsync(connection, frames, abort.Token);
            await connection.WhenClosing();
        }
        catch (OperationCanceledException) when (connection.Closing.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            connection.Fail(ex);
        }
        finally
        {
            connection.Close(CloseReason.ClientClosed);
            var closeTimeout = options.CurrentValue.CloseTimeout;
            foreach (var part in (Task[])[EndAsync(transport, connection, abort.Token), reader])
            {
                if (await Task.WhenAny(part, Task.Delay(closeTimeout, time)) != part)
                {
                    await abort.CancelAsync();
                    transport.Abort();
                }
                await part;
            }
            await watcher;
            if (connection.Fault is { } fault)
            {
                RealtimeLog.ConnectionFailed(logger, fault, connection.Id);
            }
            var reason = connection.CloseReason!;
            RealtimeLog.Closed(logger, connection.Id, connection.UserId, reason.Code, reason.Name);
        }
    }

    /// <summary>Authenticates and authorizes the request and claims its user's slot: the connection to run, or null when refused.</summary>
    private async Task<ClientConnection?> AdmitAsync(IStreamTransport transport, StreamRequest request, ConnectionRegistry.Admission admission)
    {
        var (principal, expiresAt, error) = await tokens.ValidateAsync(request.Token);
        if (principal?.GetUserId() is not { Length: > 0 } userId)
        {
            return await RefuseAsync(transport, Refusal.Unauthorized, error ?? "token has no subject");
        }
        var isAdmin = principal.IsAdmin();
        if (request.Kind == StreamKind.Admin && !isAdmin)
        {
            return await RefuseAsync(transport, Refusal.NotAdmin, "admin role required");
        }
        if (request.Kind is StreamKind.Task or StreamKind.Batch
            && !await progress.MayWatchAsync(request.Kind, request.ResourceId!, userId, isAdmin, request.Aborted))
        {
            return await RefuseAsync(transport, Refusal.NotFound, $"{request.Kind} {request.ResourceId} unknown or someone else's");
        }
        if (!admission.TryClaimUser(userId))
        {
            return await RefuseAsync(transport, Refusal.TooManyConnections, "connection limit reached");
        }

        var now = time.GetUtcNow();
        var heartbeat = transport.IsSse ? settings.SseHeartbeat : settings.WebSocketHeartbeat;
        return new ClientConnection(Guid.NewGuid().ToString("N"), userId, isAdmin, request.Kind, options.CurrentValue.SendQueueCapacity, expiresAt, now)
        {
            IsSse = transport.IsSse,
            HeartbeatInterval = heartbeat,
            NextHeartbeat = now + heartbeat,
            IdleLimit = transport.IsSse ? IdleLimit(request.Kind) : null,
        };
    }

    private TimeSpan? IdleLimit(StreamKind kind) => kind switch
    {
        StreamKind.Task => settings.TaskMaxIdle,
        StreamKind.Batch => settings.BatchMaxIdle,
        _ => null,
    };

    private async Task<ClientConnection?> RefuseAsync(IStreamTransport transport, Refusal refusal, string detail)
    {
        RealtimeLog.Rejected(logger, transport.Name, refusal, detail);
        await transport.RefuseAsync(refusal);
        return null;
    }

    /// <summary>Waits for the last write run, then ends the stream (the close frame); never throws.</summary>
    private static async Task EndAsync(IStreamTransport transport, ClientConnection connection, CancellationToken abort)
    {
        await connection.WhenWritten();
        await transport.CloseAsync(connection, abort);
    }

    /// <summary>The progress watcher of a task or batch stream; a fault closes the connection with 1011 (logged at the close), never rethrown.</summary>
    private async Task WatchAsync(ClientConnection connection, string resourceId, TimeSpan poll)
    {
        try
        {
            await progress.WatchAsync(connection, resourceId, poll);
        }
        catch (OperationCanceledException) when (connection.Closing.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            connection.Fail(ex);
        }
    }
}
