namespace Notify.Core.Preferences;

/// <summary>
/// Durable preferences: one versioned document per owner (a user id, or <see cref="DefaultsOwner"/> for
/// the admin's defaults). Writes are compare-and-set on the version, like the runtime settings.
/// Implementations: <c>SqlitePreferencesStore</c>, <c>MongoPreferencesStore</c>. Validation is the Api's job.
/// </summary>
public interface IPreferencesStore
{
    /// <summary>The owner of the admin's defaults (no user id is empty).</summary>
    public const string DefaultsOwner = "";

    /// <summary>Creates the table or collection if missing. Idempotent; called at start-up.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>The owner's preferences; <see cref="StoredPreferences.Empty"/> when nothing was stored.</summary>
    Task<StoredPreferences> GetAsync(string owner, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces the owner's preferences when the stored version still equals <paramref name="expectedVersion"/>
    /// (0: nothing stored yet) and returns the new state (version + 1); null, storing nothing, when another
    /// write came first.
    /// </summary>
    Task<StoredPreferences?> TryPutAsync(string owner, NotificationPreferences preferences, long expectedVersion, DateTimeOffset updatedAt, CancellationToken cancellationToken);
}
