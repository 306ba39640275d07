using System.Security.Cryptography;
using System.Text.Json;
using Notify.Core.Json;
using Notify.Core.Messaging;
using Notify.Core.Notifications;
using Notify.Core.Preferences;

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
    IPreferencesStore preferences,
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

    /// <summary>Frame type sent when a notification was seen.</summary>
    public const string SeenFrame = "seen";

    /// <summary>Frame type sent when a notification was archived.</summary>
    public const string ArchivedFrame = "archived";

    /// <summary>Frame type sent when a notification was unarchived.</summary>
    public const string UnarchivedFrame = "unarchived";

    /// <summary>Frame type sent when a notification was snoozed (or its snooze cleared).</summary>
    public const string SnoozedFrame = "snoozed";

    /// <summary>Frame type sent after a bulk action changed anything.</summary>
    public const string BulkFrame = "bulk";

    /// <summary>Frame type sent instead of <c>notification</c> when the user's preference is inbox: the counts changed.</summary>
    public const string UnreadCountFrame = "unread_count";

    /// <summary>Frame type sent when the user's preferences changed.</summary>
    public const string PreferencesFrame = "preferences";

    /// <summary>Rows one bulk statement changes at most.</summary>
    public const int BulkBatchSize = 500;

    /// <summary>Rows one bulk request changes at most; the answer says whether more match.</summary>
    public const int BulkMaxPerRequest = 10_000;

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
    public async Task<CreateOutcome> CreateAsync(NewNotification draft, IdempotencyKey? idempotency, CancellationToken cancellationToken)
    {
        var mode = await ModeAsync(draft.UserId, draft.Type, cancellationToken);
        if (mode == DeliveryMode.Off)
        {
            ApiLog.NotificationSuppressed(logger, draft.UserId, draft.Type);
            return new CreateOutcome(null, mode);
        }
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
            if (mode == DeliveryMode.Live)
            {
                await outbox.PublishAsync(result.Notification);
            }
            else
            {
                // Inbox only: out of the outbox without a notification frame; open tabs get the new counts.
                // (A process that dies between the create and this mark leaves it to the outbox's sweep,
                // which publishes it as a notification frame.)
                await store.MarkPublishedAsync([new NotificationKey(result.Notification.UserId, result.Notification.Id)], CancellationToken.None);
                await PublishAsync(result.Notification.UserId, Frames.Serialize(UnreadCountFrame, await CountsAsync(result.Notification.UserId, cancellationToken)));
            }
        }
        else if (result.RequestMismatch)
        {
            ApiLog.IdempotencyKeyReused(logger, idempotency!.Caller, result.Notification.UserId);
        }
        else
        {
            ApiLog.IdempotentReplay(logger, result.Notification.Id, result.Notification.UserId);
        }
        return new CreateOutcome(result, mode);
    }

    /// <summary>The in-app mode for a notification of <paramref name="type"/> to <paramref name="userId"/> now.</summary>
    public async Task<DeliveryMode> ModeAsync(string userId, string type, CancellationToken cancellationToken)
    {
        var user = await preferences.GetAsync(userId, cancellationToken);
        var defaults = await preferences.GetAsync(IPreferencesStore.DefaultsOwner, cancellationToken);
        return PreferenceResolver.Resolve(user.Preferences, defaults.Preferences, type, PreferenceChannels.InApp, time.GetUtcNow());
    }

    /// <summary>The user's unread and unseen counts.</summary>
    public async Task<InboxCounts> CountsAsync(string userId, CancellationToken cancellationToken)
    {
        var unread = await store.CountUnreadAsync(userId, cancellationToken);
        return new InboxCounts(unread, unread, await store.CountUnseenAsync(userId, cancellationToken));
    }

    public async Task<bool> MarkSeenAsync(string userId, string id, CancellationToken cancellationToken) =>
        await store.MarkSeenAsync(userId, id, time.GetUtcNow(), cancellationToken)
        && await PublishedAsync(userId, Frames.Serialize(SeenFrame, new IdData(id)));

    public async Task<bool> SetArchivedAsync(string userId, string id, bool archived, CancellationToken cancellationToken) =>
        await store.SetArchivedAsync(userId, id, archived ? time.GetUtcNow() : null, cancellationToken)
        && await PublishedAsync(userId, Frames.Serialize(archived ? ArchivedFrame : UnarchivedFrame, new IdData(id)));

    public async Task<bool> SnoozeAsync(string userId, string id, DateTimeOffset? until, CancellationToken cancellationToken) =>
        await store.SnoozeAsync(userId, id, until, cancellationToken)
        && await PublishedAsync(userId, Frames.Serialize(SnoozedFrame, new SnoozeData(id, until)));

    /// <summary>Applies a bulk action in batches of <see cref="BulkBatchSize"/>, up to <see cref="BulkMaxPerRequest"/> rows.</summary>
    public async Task<BulkResponse> BulkAsync(string userId, BulkFilter filter, BulkAction action, CancellationToken cancellationToken)
    {
        var at = time.GetUtcNow();
        long updated = 0;
        long changed;
        do
        {
            changed = await store.BulkAsync(userId, filter, action, at, (int)Math.Min(BulkBatchSize, BulkMaxPerRequest - updated), cancellationToken);
            updated += changed;
        }
        while (changed == BulkBatchSize && updated < BulkMaxPerRequest);
        var response = new BulkResponse(updated, More: updated == BulkMaxPerRequest);
        if (updated > 0)
        {
            await PublishAsync(userId, Frames.Serialize(BulkFrame, new BulkData(BulkActionName(action), updated)));
        }
        return response;
    }

    /// <summary>Tells the user's connections that the preferences changed (version).</summary>
    public Task PreferencesChangedAsync(string userId, long version) =>
        PublishAsync(userId, Frames.Serialize(PreferencesFrame, new PreferencesData(version)));

    public static string BulkActionName(BulkAction action) => action switch
    {
        BulkAction.Read => "read",
        BulkAction.Seen => "seen",
        BulkAction.Archive => "archive",
        _ => "delete",
    };

    private async Task<bool> PublishedAsync(string userId, byte[] frame)
    {
        await PublishAsync(userId, frame);
        return true;
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

    private sealed record SnoozeData(string Id, DateTimeOffset? Until);

    private sealed record BulkData(string Action, long Updated);

    private sealed record PreferencesData(long Version);
}

/// <summary>What a create did: <see cref="Result"/> is null when the user's preference for the type is off (nothing stored or published).</summary>
internal sealed record CreateOutcome(CreateResult? Result, DeliveryMode Mode);

/// <summary><c>{ "count": n, "unread": n, "unseen": m }</c>: <c>count</c> is the unread count, as in the <c>connected</c> frame.</summary>
public sealed record InboxCounts(long Count, long Unread, long Unseen);

/// <summary>Answer to a bulk action: how many changed, and whether more matched than one request changes.</summary>
public sealed record BulkResponse(long Updated, bool More);

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
