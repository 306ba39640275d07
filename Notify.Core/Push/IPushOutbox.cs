using Notify.Core.Notifications;

namespace Notify.Core.Push;

/// <summary>
/// The notifications waiting to be considered for Web Push, kept in the notification store so that none is
/// missed while no Worker runs and none is pushed twice by several Workers. Every created notification
/// waits from its creation, and a woken snooze waits again from its wake-up. A Worker claims waiting ones
/// with a lease: each is handed to one claimer at a time, and only when the lease ran out (its claimer died
/// before <see cref="CompleteAsync"/>) to another. Notifications that waited longer than the caller's
/// bound are dropped unpushed. Implementations: <c>SqliteNotificationStore</c>, <c>MongoNotificationStore</c>.
/// </summary>
public interface IPushOutbox
{
    /// <summary>
    /// Drops the waiting notifications that wait since before <paramref name="oldest"/>, then claims up to
    /// <paramref name="limit"/> of the others whose lease is free (none, or ended by <paramref name="now"/>),
    /// oldest first, leasing them until <paramref name="leaseUntil"/>.
    /// </summary>
    Task<PushClaim> ClaimAsync(DateTimeOffset now, DateTimeOffset oldest, DateTimeOffset leaseUntil, int limit, CancellationToken cancellationToken);

    /// <summary>Ends the wait of these notifications (pushed, or decided not to push). Missing ones are ignored.</summary>
    Task CompleteAsync(IReadOnlyCollection<NotificationKey> notifications, CancellationToken cancellationToken);
}

/// <summary>What one claim got, and how many notifications it dropped for being too old.</summary>
public sealed record PushClaim(IReadOnlyList<Notification> Notifications, long Expired);
