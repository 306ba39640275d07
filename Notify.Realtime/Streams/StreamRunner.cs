using Microsoft.Extensions.Options;
using Notify.Realtime.Connections;
using Notify.Realtime.Options;

namespace Notify.Realtime.Streams;

/// <summary>
/// Runs a registered connection to its end the same way for every transport: the writer starts first,
/// then the stream opens (replay or snapshot), then the client reader and the progress watcher run
/// beside it. Whatever fails in any of them closes the connection (1011 for a server fault) instead of
/// escaping; when one part ends the others get <c>Realtime:CloseTimeout</c>, then the transport is
/// aborted. It returns only once every part has stopped, so the caller's release sees a quiet connection.
/// </summary>
internal sealed class StreamRunner(
    StreamOpener opener,
    StreamSettings settings,
    IOptionsMonitor<RealtimeOptions> options,
    TimeProvider time,
    ILogger<StreamRunner> logger)
{
    /// <param name="connection">The connection, already registered.</param>
    /// <param name="resourceId">The task or batch id of a progress stream.</param>
    /// <param name="lastId">The resume cursor of a notification stream.</param>
    /// <param name="write">The transport's one writer: drains the queue until the connection closes, then ends the stream.</param>
    /// <param name="receive">The transport's client reader (WebSocket), or null when the client sends nothing (SSE).</param>
    /// <param name="abortTransport">Tears the transport down without a handshake.</param>
    public async Task RunAsync(
        ClientConnection connection,
        string? resourceId,
        string? lastId,
        Func<CancellationToken, Task> write,
        Func<CancellationToken, Task>? receive,
        Action abortTransport)
    {
        using var abort = new CancellationTokenSource();
        var writer = GuardAsync(connection, write, abort.Token);
        var receiver = Task.CompletedTask;
        var watcher = Task.CompletedTask;
        try
        {
            if (connection.Kind is StreamKind.Task or StreamKind.Batch)
            {
                await opener.OpenProgressAsync(connection, resourceId!, connection.Closing);
                var poll = connection.Kind == StreamKind.Task ? settings.TaskPollTimeout : settings.BatchPollInterval;
                watcher = GuardAsync(connection, _ => opener.WatchProgressAsync(connection, resourceId!, poll), abort.Token);
            }
            else
            {
                await opener.OpenAsync(connection, lastId, connection.Closing);
            }
            if (receive is not null)
            {
                receiver = GuardAsync(connection, receive, abort.Token);
                await Task.WhenAny(writer, receiver, WhenCancelled(connection.Closing));
            }
            else
            {
                await Task.WhenAny(writer, WhenCancelled(connection.Closing));
            }
        }
        catch (OperationCanceledException) when (connection.Closing.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            RealtimeLog.ConnectionFailed(logger, ex, connection.Id);
            connection.Close(CloseReason.InternalError);
        }
        finally
        {
            connection.Close(CloseReason.ClientClosed);
            var closeTimeout = options.CurrentValue.CloseTimeout;
            foreach (var part in (Task[])[writer, receiver])
            {
                if (await Task.WhenAny(part, Task.Delay(closeTimeout, time)) != part)
                {
                    await abort.CancelAsync();
                    abortTransport();
                }
                await part;
            }
            await watcher;
            var reason = connection.CloseReason!;
            RealtimeLog.Closed(logger, connection.Id, connection.UserId, reason.Code, reason.Name);
        }
    }

    /// <summary>Runs one part of the connection; a fault closes the connection with 1011 and is logged, never rethrown.</summary>
    private async Task GuardAsync(ClientConnection connection, Func<CancellationToken, Task> part, CancellationToken abort)
    {
        try
        {
            await part(abort);
        }
        catch (OperationCanceledException) when (connection.Closing.IsCancellationRequested || abort.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            RealtimeLog.ConnectionFailed(logger, ex, connection.Id);
            connection.Close(CloseReason.InternalError);
        }
    }

    /// <summary>A task that completes when <paramref name="token"/> is cancelled (never faults).</summary>
    internal static Task WhenCancelled(CancellationToken token)
    {
        if (token.IsCancellationRequested)
        {
            return Task.CompletedTask;
        }
        var completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        token.Register(static state => ((TaskCompletionSource)state!).TrySetResult(), completion);
        return completion.Task;
    }
}
