using Notify.Core.Messaging;
using Notify.Core.Notifications;
using Notify.Realtime.Connections;

namespace Notify.Realtime.Streams;

/// <summary>
/// Inbox changes sent over a WebSocket (<c>mark_read</c>, <c>mark_seen</c>, <c>archive</c>, <c>unarchive</c>):
/// the REST call's effect, answered at once with the frame the REST call publishes (<c>read</c>, <c>seen</c>,
/// <c>archived</c>, <c>unarchived</c>), which is also published on the user's topic so the user's other
/// connections (on any instance) update too. The connection that asked drops that echo.
/// </summary>
internal sealed class InboxChanges(INotificationStore store, IMessageBus bus, TimeProvider time, ILogger<InboxChanges> logger)
{
    /// <summary>
    /// Applies <paramref name="change"/> to notification <paramref name="id"/> of the connection's user; returns
    /// the answer (a <c>not_found</c> error when the user has no such notification). A store error is thrown
    /// (the connection closes with 1011); a publish error is logged, as in the Api: the store is the truth.
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
        connection.SetEchoFilter(
            EchoKey.Change(frameType),
            topic,
            echo => echo.Info.Type == frameType && echo.Info.Id == id,
            time.GetUtcNow() + EchoFilter.Window);
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
}
