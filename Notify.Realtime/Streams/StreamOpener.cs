using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Notify.Core.Json;
using Notify.Core.Messaging;
using Notify.Core.Notifications;
using Notify.Core.Tasks;
using Notify.Realtime.Connections;
using Notify.Realtime.Options;

namespace Notify.Realtime.Streams;

/// <summary>
/// Starts streams and channel subscriptions the same way for every transport: subscribe first and
/// buffer live frames, replay what the client missed, then release the buffer minus what replay
/// already sent. That order is what makes replay gap-free and duplicate-free.
/// </summary>
internal sealed partial class StreamOpener(
    ConnectionRegistry registry,
    INotificationStore store,
    IMessageBus bus,
    ITaskQueue queue,
    IProgressStore progress,
    IOptionsMonitor<RealtimeOptions> options,
    Preferences.PreferenceFilters preferences,
    TimeProvider time,
    ILogger<StreamOpener> logger)
{
    /// <summary>
    /// How long after a replay live frames that replay already sent are still dropped. A publish that was
    /// in flight while replay read the store arrives within milliseconds; this is a generous bound.
    /// </summary>
    private static readonly TimeSpan ReplayEchoWindow = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Registers a notification or admin stream: its topics, <c>connected</c>, the replay after
    /// <paramref name="lastId"/> (or <c>resync</c> beyond <c>Realtime:MaxReplay</c>), then live delivery.
    /// The connection's writer must already be draining its queue.
    /// </summary>
    public async Task OpenAsync(ClientConnection connection, string? lastId, CancellationToken cancellationToken)
    {
        connection.BeginGate(null);
        var heartbeat = connection.HeartbeatInterval;
        if (connection.Kind == StreamKind.Admin)
        {
            await registry.SubscribeAsync(connection, BusTopic.Channel("admin"), cancellationToken);
            await connection.EnqueueReplayAsync(ServerFrames.Connected(connection.UserId, connection.Id, time.GetUtcNow(), heartbeat, 0), cancellationToken);
            connection.ReleaseGate(null);
            return;
        }

        await preferences.AttachAsync(connection, cancellationToken);
        await registry.SubscribeAsync(connection, BusTopic.User(connection.UserId), cancellationToken);
        await registry.SubscribeAsync(connection, BusTopic.Broadcast, cancellationToken);
        var unread = await store.CountUnreadAsync(connection.UserId, cancellationToken);
        await connection.EnqueueReplayAsync(ServerFrames.Connected(connection.UserId, connection.Id, time.GetUtcNow(), heartbeat, unread), cancellationToken);

        if (string.IsNullOrEmpty(lastId))
        {
            connection.ReleaseGate(null);
            return;
        }

        var max = options.CurrentValue.MaxReplay;
        var missed = await store.ListAfterAsync(connection.UserId, lastId, max + 1, cancellationToken);
        if (missed.Count > max)
        {
            RealtimeLog.ReplayTooLong(logger, connection.Id, max);
            await connection.EnqueueReplayAsync(ServerFrames.Resync("too_many_missed", null), cancellationToken);
            connection.ReleaseGate(null);
            return;
        }
        // Exactly what the client has: last_id and what replay sends now. Ids are in commit order, but a
        // publication can arrive after newer ones (its writer was slower, or the outbox published it late):
        // a live id below last_id that replay did not send is such a late one, and is delivered.
        var replayed = new HashSet<string>(StringComparer.Ordinal) { lastId };
        foreach (var notification in missed)
        {
            await connection.EnqueueReplayAsync(ServerFrames.Notification(notification), cancellationToken);
            replayed.Add(notification.Id);
        }
        connection.ReleaseGate(frame =>
        {
            var info = FrameInfo.Read(frame.Span);
            return info.Type == "notification" && info.Id is not null && replayed.Contains(info.Id);
        }, EchoKey.Inbox, time.GetUtcNow() + ReplayEchoWindow);
    }

    /// <summary>
    /// Handles a <c>subscribe</c>: checks the name and the protocol's rules, subscribes, answers
    /// <c>subscribed</c>, and replays history after <paramref name="since"/> (or <c>resync</c> for the channel).
    /// Returns an error frame to send instead when refused.
    /// </summary>
    public async Task<byte[]?> SubscribeAsync(ClientConnection connection, string channel, string? since, CancellationToken cancellationToken)
    {
        if (!ChannelName().IsMatch(channel))
        {
            return ServerFrames.Error("bad_request", "channel must match ^[a-z0-9_.:-]{1,128}$");
        }
        if (!MayJoin(connection, channel))
        {
            return ServerFrames.Error("forbidden", $"not allowed to join {channel}");
        }
        if (since is not null && !ChannelOffset.IsValid(since))
        {
            return ServerFrames.Error("bad_request", "since must be a channel offset (the id of a message frame, such as 1700000000000-0)");
        }
        int count;
        lock (connection.Topics)
        {
            count = connection.Topics.Count;
        }
        if (count >= options.CurrentValue.MaxSubscriptionsPerConnection + 2)
        {
            return ServerFrames.Error("bad_request", "too many subscriptions");
        }

        var topic = BusTopic.Channel(channel);
        var replay = !string.IsNullOrEmpty(since);
        if (replay)
        {
            connection.BeginGate(topic);
        }
        try
        {
            await registry.SubscribeAsync(connection, topic, cancellationToken);
            connection.Enqueue(ServerFrames.Channel("subscribed", channel));
            if (!replay)
            {
                return null;
            }

            var max = options.CurrentValue.MaxReplay;
            var history = await bus.ReadHistoryAsync(topic, since!, max + 1, cancellationToken);
            if (history.Truncated || history.Entries.Count > max)
            {
                await connection.EnqueueReplayAsync(ServerFrames.Resync(history.Truncated ? "history_truncated" : "too_many_missed", channel), cancellationToken);
                return null;
            }
            var cutoff = since!;
            foreach (var entry in history.Entries.Where(e => connection.Preferences?.Drops(topic, e.Frame.Span) != true))
            {
                await connection.EnqueueReplayAsync(entry.Frame, cancellationToken);
                cutoff = entry.Id;
            }
            connection.ReleaseGate(frame =>
            {
                var info = FrameInfo.Read(frame.Span);
                return info.Type == "message" && info.Id is not null && ChannelOffset.Compare(info.Id, cutoff) <= 0;
            }, EchoKey.Channel(channel), time.GetUtcNow() + ReplayEchoWindow);
            return null;
        }
        finally
        {
            connection.ReleaseGate(null);
        }
    }

    /// <summary>Handles an <c>unsubscribe</c>.</summary>
    public async Task<byte[]?> UnsubscribeAsync(ClientConnection connection, string channel, CancellationToken cancellationToken)
    {
        if (!ChannelName().IsMatch(channel) || channel == "admin" && connection.Kind == StreamKind.Admin)
        {
            return ServerFrames.Error("bad_request", $"not subscribed to {channel}");
        }
        await registry.UnsubscribeAsync(connection, BusTopic.Channel(channel), cancellationToken);
        connection.RemoveEchoFilter(EchoKey.Channel(channel));
        connection.Enqueue(ServerFrames.Channel("unsubscribed", channel));
        return null;
    }

    /// <summary>
    /// Handles an inbox change sent over a WebSocket (<c>mark_read</c>, <c>mark_seen</c>, <c>archive</c>,
    /// <c>unarchive</c>): the REST call's effect, answered at once with the frame the REST call publishes
    /// (<c>read</c>, <c>seen</c>, <c>archived</c>, <c>unarchived</c>), which is also published on the user's
    /// topic so the user's other connections (on any instance) update too. This connection drops that echo.
    /// A store error is thrown (the connection closes with 1011); a publish error is logged, as in the Api:
    /// the store is the truth.
    /// </summary>
    public async Task<byte[]> ChangeAsync(ClientConnection connection, InboxChange change, string id, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var found = change switch
        {
            InboxChange.Read => await store.MarkReadAsync(connection.UserId, id, now, cancellationToken),
            InboxChange.Seen => await store.MarkSeenAsync(connection.UserId, id, now, cancellationToken),
            InboxChange.Archive => await store.SetArchivedAsync(connection.UserId, id, now, cancellationToken),
            _ => await store.SetArchivedAsync(connection.UserId, id, null, cancellationToken),
        };
        if (!found)
        {
            return ServerFrames.Error("not_found", $"no notification {id}");
        }
        var frameType = ServerFrames.ChangeFrameType(change);
        var frame = ServerFrames.Change(frameType, id);
        var topic = BusTopic.User(connection.UserId);
        connection.SetEchoFilter(EchoKey.Change(frameType), topic, echo =>
        {
            var info = FrameInfo.Read(echo.Span);
            return info.Type == frameType && info.Id == id;
        }, time.GetUtcNow() + ReplayEchoWindow);
        try
        {
            // Stored: published even if this connection is going away meanwhile.
            await bus.PublishAsync(topic, frame, CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            RealtimeLog.ReadPublishFailed(logger, ex, id, connection.UserId);
        }
        return frame;
    }

    /// <summary>The task when the user may watch it (its owner or an admin); null when unknown or someone else's.</summary>
    public async Task<TaskRecord?> FindTaskAsync(string taskId, string userId, bool isAdmin, CancellationToken cancellationToken)
    {
        var task = await queue.GetAsync(taskId, cancellationToken);
        return task is not null && (isAdmin || task.UserId == userId) ? task : null;
    }

    /// <summary>The batch when the user may watch it (its owner or an admin); null when unknown or someone else's.</summary>
    public async Task<BatchRecord?> FindBatchAsync(string batchId, string userId, bool isAdmin, CancellationToken cancellationToken)
    {
        var batch = await queue.GetBatchAsync(batchId, cancellationToken);
        return batch is not null && (isAdmin || batch.UserId == userId) ? batch : null;
    }

    /// <summary>
    /// Registers a task or batch stream: its topic, <c>connected</c>, the current snapshot as <c>progress</c>
    /// (and the terminal frame when it has already ended), then the live updates.
    /// </summary>
    public async Task OpenProgressAsync(ClientConnection connection, string id, CancellationToken cancellationToken)
    {
        connection.BeginGate(null);
        var isTask = connection.Kind == StreamKind.Task;
        await registry.SubscribeAsync(connection, isTask ? BusTopic.Task(id) : BusTopic.Batch(id), cancellationToken);
        var now = time.GetUtcNow();
        await connection.EnqueueReplayAsync(Frames.Serialize("connected", new Dictionary<string, object?>
        {
            [isTask ? "task_id" : "batch_id"] = id,
            ["connection_id"] = connection.Id,
            ["server_time"] = now,
        }), cancellationToken);

        var snapshot = isTask ? await TaskSnapshotAsync(id, cancellationToken) : await BatchSnapshotAsync(id, cancellationToken);
        for (var i = 0; i < snapshot.Count; i++)
        {
            // The second frame of a snapshot is the terminal one: the stream ends once it is written.
            await connection.EnqueueReplayAsync(snapshot[i], cancellationToken, endsStream: i == 1);
        }
        connection.ReleaseGate(null);
    }

    /// <summary>
    /// Pub/sub is at-most-once, so a progress stream silent for <paramref name="poll"/> re-reads the
    /// snapshot: a task or batch that ended while its terminal frame was missed still ends the stream.
    /// Returns when the connection closes.
    /// </summary>
    public async Task WatchProgressAsync(ClientConnection connection, string id, TimeSpan poll)
    {
        var isTask = connection.Kind == StreamKind.Task;
        var topic = isTask ? BusTopic.Task(id) : BusTopic.Batch(id);
        while (!connection.Closing.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(poll, time, connection.Closing);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            if (time.GetUtcNow() - connection.LastActivity < poll)
            {
                continue;
            }
            var frames = isTask ? await TaskSnapshotAsync(id, connection.Closing) : await BatchSnapshotAsync(id, connection.Closing);
            if (frames.Count == 2)
            {
                connection.Deliver(topic, frames[1], time.GetUtcNow());
                return;
            }
        }
    }

    /// <summary>The task's current <c>progress</c>, followed by its terminal frame when it has ended.</summary>
    public async Task<List<byte[]>> TaskSnapshotAsync(string taskId, CancellationToken cancellationToken)
    {
        var frames = new List<byte[]>(2);
        var task = await queue.GetAsync(taskId, cancellationToken);
        var snapshot = await progress.GetTaskAsync(taskId, cancellationToken);
        if (task is null && snapshot is null)
        {
            return frames;
        }
        var now = time.GetUtcNow();
        var state = task?.Status ?? snapshot!.Status;
        snapshot ??= new TaskProgress { TaskId = taskId, Status = state, Timestamp = now };
        frames.Add(Frames.Serialize(TaskFrames.Progress, snapshot));
        var elapsed = task is { StartedAt: { } started } ? ((task.FinishedAt ?? now) - started).TotalSeconds : snapshot.ElapsedS;
        if (state == TaskState.Completed)
        {
            frames.Add(Frames.Serialize(TaskFrames.Completed, new TaskCompletedEvent
            {
                TaskId = taskId, Result = task?.Result, Attempts = task?.Attempts ?? 0, ElapsedS = elapsed, Timestamp = task?.FinishedAt ?? now,
            }));
        }
        else if (state is TaskState.Failed or TaskState.Cancelled)
        {
            frames.Add(Frames.Serialize(TaskFrames.Error, new TaskErrorEvent
            {
                TaskId = taskId, Status = state, Error = task?.Error ?? (state == TaskState.Cancelled ? "cancelled" : "failed"),
                Attempts = task?.Attempts ?? 0, ElapsedS = elapsed, Timestamp = task?.FinishedAt ?? now,
            }));
        }
        return frames;
    }

    /// <summary>The batch's current <c>progress</c>, followed by <c>finished</c> when every task has ended.</summary>
    public async Task<List<byte[]>> BatchSnapshotAsync(string batchId, CancellationToken cancellationToken)
    {
        var frames = new List<byte[]>(2);
        var snapshot = await progress.GetBatchAsync(batchId, cancellationToken);
        if (snapshot is null)
        {
            return frames;
        }
        frames.Add(Frames.Serialize(TaskFrames.Progress, snapshot));
        if (snapshot.Queued == 0 && snapshot.Running == 0)
        {
            frames.Add(Frames.Serialize(TaskFrames.Finished, snapshot));
        }
        return frames;
    }

    private static bool MayJoin(ClientConnection connection, string channel)
    {
        if (channel.StartsWith("public:", StringComparison.Ordinal))
        {
            return true;
        }
        if (channel.StartsWith("user:", StringComparison.Ordinal))
        {
            return string.Equals(channel["user:".Length..], connection.UserId, StringComparison.Ordinal);
        }
        if (channel == "admin" || channel.StartsWith("admin:", StringComparison.Ordinal))
        {
            return connection.IsAdmin;
        }
        return false;
    }

    [GeneratedRegex(NotificationLimits.ChannelPattern, RegexOptions.CultureInvariant)]
    private static partial Regex ChannelName();
}
