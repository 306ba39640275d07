using System.Security.Cryptography;
using System.Text.Json;
using Notify.Core.Json;
using Notify.Core.Messaging;
using Notify.Core.Notifications;

namespace Notify.Api.Notifications;

/// <summary>
/// Store first, then publish: a notification reaches the bus only once it is durable, and it waits in
/// the store's outbox until it was published (<see cref="NotificationOutbox"/>), so a publish that fails
/// (Redis down) or never happens (the process died) is made later; the create still answers 201. Changes
/// to the inbox (read, read all, delete) are published on the user's topic too, so the user's other tabs
/// and devices update; those are best effort.
/// </summary>
internal sealed class NotificationService(
    INotificationStore store,
    NotificationOutbox outbox,
    NotificationIds ids,
    TimeProvider time,
    ILogger<NotificationService> logger)
{
    /// <summary>Frame type sent to the owner's other connections when one notification was marked read.</summary>
    public const string ReadFrame = "read";

    /// <summary>Frame type sent when every unread notification was marked read.</summary>
    public const string ReadAllFrame = "read_all";

    /// <summary>Frame type sent when a notification was deleted.</summary>
    public const string DeletedFrame = "deleted";

    /// <summary>
    /// The key <paramref name="key"/> as <paramref name="caller"/> sent it with <paramref name="draft"/>: its
    /// request hash covers every field that ends up in the notification, so a retry matches and any other
    /// request under the same key does not.
    /// </summary>
    public static IdempotencyKey Key(string caller, string key, NewNotification draft) =>
        new(caller, key, Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(draft, NotifyJson.Options))));

    /// <summary>
    /// Stores a new notification (or finds the one this caller stored under the same idempotency key)
    /// and publishes it if it is new. A key reused for another request stores and publishes nothing
    /// (<see cref="CreateResult.RequestMismatch"/>).
    /// </summary>
    public async Task<CreateResult> CreateAsync(NewNotification draft, IdempotencyKey? idempotency, CancellationToken cancellationToken)
    {
        var notification = new Notification
        {
            Id = ids.Next(),
            UserId = draft.UserId,
            Type = draft.Type,
            Title = draft.Title,
            Content = draft.Content ?? "",
            Link = draft.Link,
            Source = draft.Source,
            Severity = draft.Severity,
            Status = NotificationStatus.Unread,
            // Stores keep milliseconds; the answer must equal what a later read returns.
            CreatedAt = TruncateToMilliseconds(time.GetUtcNow()),
            Metadata = draft.Metadata is { ValueKind: not JsonValueKind.Null } m ? m.Clone() : null,
        };
        var result = await store.CreateAsync(notification, idempotency, cancellationToken);
        if (result.Created)
        {
            ApiLog.NotificationCreated(logger, result.Notification.Id, result.Notification.UserId);
            await outbox.PublishAsync(result.Notification);
        }
        else if (result.RequestMismatch)
        {
            ApiLog.IdempotencyKeyReused(logger, idempotency!.Caller, result.Notification.UserId);
        }
        else
        {
            ApiLog.IdempotentReplay(logger, result.Notification.Id, result.Notification.UserId);
        }
        return result;
    }

    public async Task<bool> MarkReadAsync(string userId, string id, CancellationToken cancellationToken)
    {
        if (!await store.MarkReadAsync(userId, id, time.GetUtcNow(), cancellationToken))
        {
            return false;
        }
        await PublishAsync(userId, Frames.Serialize(ReadFrame, new IdData(id)));
        return true;
    }

    public async Task<long> MarkAllReadAsync(string userId, CancellationToken cancellationToken)
    {
        var updated = await store.MarkAllReadAsync(userId, time.GetUtcNow(), cancellationToken);
        if (updated > 0)
        {
            await PublishAsync(userId, Frames.Serialize(ReadAllFrame, new ReadAllResponse(updated)));
        }
        return updated;
    }

    public async Task<bool> DeleteAsync(string userId, string id, CancellationToken cancellationToken)
    {
        if (!await store.DeleteAsync(userId, id, cancellationToken))
        {
            return false;
        }
        await PublishAsync(userId, Frames.Serialize(DeletedFrame, new IdData(id)));
        return true;
    }

    // Once the change is stored it is published even if the caller has gone away meanwhile; with Redis
    // down it is not (the answer does not wait): the store is the truth and other tabs see it on reload.
    private Task PublishAsync(string userId, byte[] frame) => outbox.TryPublishAsync(BusTopic.User(userId), frame);

    private static DateTimeOffset TruncateToMilliseconds(DateTimeOffset t) => new(t.Ticks - (t.Ticks % TimeSpan.TicksPerMillisecond), t.Offset);

    private sealed record IdData(string Id);
}

/// <summary>The validated fields of a notification to create.</summary>
internal sealed record NewNotification(
    string UserId,
    string Type,
    string Title,
    string? Content,
    string? Link,
    string? Source,
    NotificationSeverity Severity,
    JsonElement? Metadata);
