namespace Notify.Core.Presence;

/// <summary>
/// Who is connected where. Each Realtime instance publishes a snapshot of its own connections with a
/// time-to-live and refreshes it well before it lapses; readers sum the live snapshots. A snapshot
/// that is not refreshed (the instance was killed) stops counting once its TTL passes, so totals are
/// exact across instances without any instance having to clean up after another.
/// <para>
/// Every failure of the backing store leaves an implementation as <see cref="PresenceUnavailableException"/> (the
/// adapter's own exception inside); callers never see a store-specific exception type. Argument errors
/// are <see cref="ArgumentException"/>, cancellation is <see cref="OperationCanceledException"/>.
/// </para>
/// </summary>
public interface IPresence
{
    /// <summary>Replaces this instance's snapshot and (re)starts its TTL.</summary>
    /// <exception cref="PresenceUnavailableException">The presence registry could not carry out the call.</exception>
    Task PublishAsync(InstancePresence snapshot, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>Removes an instance's snapshot at once (graceful shutdown). Missing is not an error.</summary>
    /// <exception cref="PresenceUnavailableException">The presence registry could not carry out the call.</exception>
    Task RemoveAsync(string instanceId, CancellationToken cancellationToken);

    /// <summary>Every instance snapshot whose TTL has not passed.</summary>
    /// <exception cref="PresenceUnavailableException">The presence registry could not carry out the call.</exception>
    Task<IReadOnlyList<InstancePresence>> ListAsync(CancellationToken cancellationToken);
}
