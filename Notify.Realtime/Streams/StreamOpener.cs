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
    IServiceProvider services,
    IOptionsMonitor<RealtimeOptions> options,
    TimeProvider time,
    ILogger<StreamOpener> logger)
{
    /// <summary>
    /// Registers a notification or admin stream: its topics, <c>connected</c>, the replay after
    /// <paramref name="lastId"/> (or <c>resync</c> beyond <c>Realtime:MaxReplay</c>), then live delivery.
    /// The connection's writer must already be draining its queue.
    /// </summary>
    public async Task OpenAsync(ClientConnection connection, string? lastId, CancellationToken cancellationToken)
    {
        connection.BeginGate(null);
        registry.Add(connection);
        var heartbeat = connection.HeartbeatInterval;
        if (connection.Kind == StreamKind.Admin)
        {
            await registry.SubscribeAsync(connection, BusTopic.Channel("admin"), cancellationToken);
            await connection.EnqueueReplayAsync(ServerFrames.Connected(connection.UserId, connection.Id, time.GetUtcNow(), heartbeat, 0), cancellationToken);
            connection.ReleaseGate(null);
            return;
        }

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
        var cutoff = lastId;
        foreach (var notification in missed)
        {
            await connection.EnqueueReplayAsync(ServerFrames.Notification(notification), cancellationToken);
            cutoff = notification.Id;
        }
        connection.ReleaseGate(frame =>
        {
            var info = FrameInfo.Read(frame.Span);
            return info.Type == "notification" && info.Id is not null && string.CompareOrdinal(info.Id, cutoff) <= 0;
        });
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
            foreach (var entry in history.Entries)
            {
                await connection.EnqueueReplayAsync(entry.Frame, cancellationToken);
                cutoff = entry.Id;
            }
            connection.ReleaseGate(frame =>
            {
                var info = FrameInfo.Read(frame.Span);
                return info.Type == "message" && info.Id is not null && RedisMessageBus.CompareIds(info.Id, cutoff) <= 0;
            });
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
        connection.Enqueue(ServerFrames.Channel("unsubscribed", channel));
        return null;
    }

    /// <summary>Handles a <c>mark_read</c>: the REST call's effect, answered with <c>read</c>.</summary>
    public async Task<byte[]> MarkReadAsync(ClientConnection connection, string id, CancellationToken cancellationToken)
    {
        var found = await store.MarkReadAsync(connection.UserId, id, time.GetUtcNow(), cancellationToken);
        return found ? ServerFrames.Read(id) : ServerFrames.Error("not_found", $"no notification {id}");
    }

    /// <summary>Whether the stream's user may watch the task: its owner or an admin. Null when the task is unknown.</summary>
    public async Task<TaskRecord?> FindTaskAsync(string taskId, string userId, bool isAdmin, CancellationToken cancellationToken)
    {
        if (services.GetService<ITaskQueue>() is not { } queue)
        {
            return null;
        }
        var task = await queue.GetAsync(taskId, cancellationToken);
        return task is not null && (isAdmin || task.UserId == userId) ? task : null;
    }

    /// <summary>
    /// Registers a task or batch stream: its topic, <c>connected</c>, the current snapshot as <c>progress</c>
    /// (and the terminal frame when the task has already ended), then the live updates.
    /// </summary>
    public async Task OpenProgressAsync(ClientConnection connection, string id, TaskRecord? task, CancellationToken cancellationToken)
    {
        connection.BeginGate(null);
        registry.Add(connection);
        var topic = connection.Kind == StreamKind.Task ? BusTopic.Task(id) : BusTopic.Batch(id);
        await registry.SubscribeAsync(connection, topic, cancellationToken);
        var now = time.GetUtcNow();
        var key = connection.Kind == StreamKind.Task ? "task_id" : "batch_id";
        await connection.EnqueueReplayAsync(Frames.Serialize("connected", new Dictionary<string, object?>
        {
            [key] = id,
            ["connection_id"] = connection.Id,
            ["server_time"] = now,
        }), cancellationToken);

        if (connection.Kind == StreamKind.Task && task is not null)
        {
            var snapshot = services.GetService<IProgressStore>() is { } progress ? await progress.GetTaskAsync(id, cancellationToken) : null;
            snapshot ??= new TaskProgress { TaskId = id, Status = task.Status, Timestamp = now, Message = task.Error };
            await connection.EnqueueReplayAsync(Frames.Serialize("progress", snapshot), cancellationToken);
            var terminal = snapshot.Status is TaskState.Completed or TaskState.Failed or TaskState.Cancelled
                ? snapshot.Status
                : task.Status is TaskState.Completed or TaskState.Failed or TaskState.Cancelled ? task.Status : (TaskState?)null;
            if (terminal is { } state)
            {
                var frame = state == TaskState.Completed
                    ? Frames.Serialize("completed", new TerminalData(id, state, snapshot.Message, task.Error, now))
                    : Frames.Serialize("error", new TerminalData(id, state, snapshot.Message, task.Error ?? state.ToString(), now));
                await connection.EnqueueReplayAsync(frame, cancellationToken);
            }
        }
        connection.ReleaseGate(null);
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

    private sealed record TerminalData(string TaskId, TaskState Status, string? Message, string? Error, DateTimeOffset Timestamp);
}
