namespace Notify.Core.Notifications;

/// <summary>
/// The durable inbox. Every method except the outbox ones is scoped to one user: no method returns,
/// counts or changes another user's rows, and an id that belongs to someone else behaves exactly like a
/// missing id. For each user, id order is commit order, whichever process (or clock) wrote the row (see
/// <see cref="CreateAsync"/>); lists are newest first, replay oldest first. The store is also the outbox
/// of the live publish: a created row is "unpublished" until <see cref="MarkPublishedAsync"/>, so a
/// publish that failed, or never happened because its writer died, can be made later
/// (<see cref="ListUnpublishedAsync"/>). Implementations: <c>SqliteNotificationStore</c> (embedded
/// default) and <c>MongoNotificationStore</c> (production).
/// </summary>
public interface INotificationStore
{
    /// <summary>Creates the store's schema and indexes if missing. Idempotent; called at start-up.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Stores <paramref name="notification"/>, unpublished. Its <see cref="Notification.Id"/> is a
    /// proposal: the store keeps it when it sorts after every id the user has or had (deleted rows
    /// count), and otherwise stores it as <see cref="NotificationIds.Above"/> that greatest id, in the
    /// same atomic step as the insert. So a reader that has seen id X finds every notification committed
    /// after it with an id greater than X, with any number of writers whose clocks disagree. The result
    /// carries the id as stored. With an <paramref name="idempotency"/> key, a second create by the same
    /// caller with the same key for the same user stores nothing and returns the first row
    /// (<see cref="CreateResult.Created"/> false), also when both race; if its request hash differs from
    /// the first one's, <see cref="CreateResult.RequestMismatch"/> is true. Keys of different callers
    /// never meet: each gets its own notification.
    /// </summary>
    Task<CreateResult> CreateAsync(Notification notification, IdempotencyKey? idempotency, CancellationToken cancellationToken);

    /// <summary>
    /// Up to <paramref name="limit"/> notifications that were created but not yet marked published,
    /// in id order (so each user's in commit order), over all users.
    /// </summary>
    Task<IReadOnlyList<Notification>> ListUnpublishedAsync(int limit, CancellationToken cancellationToken);

    /// <summary>Marks notifications published (out of the outbox). Unknown or already published ones are ignored.</summary>
    Task MarkPublishedAsync(IReadOnlyCollection<NotificationKey> notifications, CancellationToken cancellationToken);

    /// <summary>The user's notification with that id, or null.</summary>
    Task<Notification?> GetAsync(string userId, string id, CancellationToken cancellationToken);

    /// <summary>A page of the user's notifications, newest first, strictly older than <see cref="NotificationQuery.Before"/>.</summary>
    Task<NotificationPage> ListAsync(string userId, NotificationQuery query, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="limit"/> of the user's notifications with id greater than <paramref name="afterId"/>, oldest first (replay).</summary>
    Task<IReadOnlyList<Notification>> ListAfterAsync(string userId, string afterId, int limit, CancellationToken cancellationToken);

    /// <summary>How many of the user's notifications are unread.</summary>
    Task<long> CountUnreadAsync(string userId, CancellationToken cancellationToken);

    /// <summary>Marks one notification read. False when the user has no such notification; true (and no change) when already read.</summary>
    Task<bool> MarkReadAsync(string userId, string id, DateTimeOffset readAt, CancellationToken cancellationToken);

    /// <summary>Marks every unread notification of the user read; returns how many changed.</summary>
    Task<long> MarkAllReadAsync(string userId, DateTimeOffset readAt, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes one notification. False when the user has no such notification. Its id still counts as
    /// the user's for <see cref="CreateAsync"/>: later ids sort after it.
    /// </summary>
    Task<bool> DeleteAsync(string userId, string id, CancellationToken cancellationToken);

    /// <summary>
    /// Retention: deletes notifications created before <paramref name="olderThan"/> and, per user,
    /// all but the newest <paramref name="keepNewestPerUser"/> (null: no per-user cap). Works in
    /// batches of <paramref name="batchSize"/> so no single statement holds the store for long.
    /// Returns how many rows were deleted.
    /// </summary>
    Task<long> ApplyRetentionAsync(DateTimeOffset olderThan, int? keepNewestPerUser, int batchSize, CancellationToken cancellationToken);
}

/// <summary>Names one stored notification: its owner and id.</summary>
public readonly record struct NotificationKey(string UserId, string Id);

/// <summary>Result of <see cref="INotificationStore.CreateAsync"/>: the stored row and whether this call created it.</summary>
public sealed record CreateResult(Notification Notification, bool Created)
{
    /// <summary>
    /// The caller used the key before for a different request (another hash): nothing was stored, and
    /// <see cref="Notification"/> is the caller's earlier notification, which must not be passed off as
    /// the answer to this request.
    /// </summary>
    public bool RequestMismatch { get; init; }
}

/// <summary>
/// An <c>Idempotency-Key</c> as one caller used it. Keys are scoped by <paramref name="Caller"/> (an API
/// key's name, a token's subject, a component of Notify itself), so two services that happen to choose
/// the same key never collide, and a caller can never get another caller's notification back by
/// guessing its key. <paramref name="RequestHash"/> identifies the request the key was first used for.
/// </summary>
/// <param name="Caller">Who sent the key, e.g. <c>key:billing</c> or <c>user:ops</c> (at most 200 characters).</param>
/// <param name="Key">The key as sent.</param>
/// <param name="RequestHash">A digest of the request (hex SHA-256), compared on a retry.</param>
public sealed record IdempotencyKey(string Caller, string Key, string RequestHash);

/// <summary>Filters and cursor of a list call.</summary>
public sealed record NotificationQuery
{
    public NotificationStatus? Status { get; init; }
    public string? Type { get; init; }
    /// <summary>Page size, 1..100.</summary>
    public int Limit { get; init; } = 20;
    /// <summary>Only ids strictly less than this (the previous page's <see cref="NotificationPage.NextCursor"/>).</summary>
    public string? Before { get; init; }
}

/// <summary>A page, newest first; <see cref="NextCursor"/> is null on the last page.</summary>
public sealed record NotificationPage(IReadOnlyList<Notification> Items, string? NextCursor);
