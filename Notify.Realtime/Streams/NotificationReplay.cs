using Microsoft.Extensions.Options;
using Notify.Core.Messaging;
using Notify.Core.Notifications;
using Notify.Realtime.Connections;
using Notify.Realtime.Options;

namespace Notify.Realtime.Streams;

/// <summary>
/// Opens a notification or admin stream: subscribe first and buffer live frames, replay what the client
/// missed, then release the buffer minus what replay already sent. That order is what makes replay
/// gap-free and duplicate-free.
/// </summary>
internal sealed class NotificationReplay(
    ConnectionRegistry registry,
    INotificationStore store,
    IOptionsMonitor<RealtimeOptions> options,
    Preferences.PreferenceFilters preferences,
    TimeProvider time,
    ILogger<NotificationReplay> logger)
{
    /// <summary>
    /// Registers the stream's topics, queues <c>connected</c>, the replay after <paramref name="lastId"/>
    /// (or <c>resync</c> beyond <c>Realtime:MaxReplay</c>), then goes live.
    /// The connection's writer must already be draining its queue.
    /// </summary>
    public async Task OpenAsync(ClientConnection connection, string? lastId, CancellationToken cancellationToken)
    {
        connection.BeginGate(null);
        var heartbeat = connection.HeartbeatInterval;
        if (connection.Kind == StreamKind.Admin)
        {
            await registry.SubscribeAsync(connection, ConnectionRegistry.AdminTopic, cancellationToken);
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
        connection.ReleaseGate(
            frame => frame.Info is { Type: "notification", Id: { } id } && replayed.Contains(id),
            EchoKey.Inbox,
            time.GetUtcNow() + EchoFilter.Window);
    }
}
