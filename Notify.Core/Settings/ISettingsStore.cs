namespace Notify.Core.Settings;

/// <summary>
/// Durable storage of the runtime settings: one versioned set of key/value strings shared by every
/// service. Writes are compare-and-set on the version, so two concurrent admins cannot silently
/// overwrite each other. Implementations: <c>SqliteSettingsStore</c>, <c>MongoSettingsStore</c>.
/// Validation is not the store's job; see <c>RuntimeSettings</c>.
/// </summary>
public interface ISettingsStore
{
    /// <summary>Creates the table or collection if missing. Idempotent; called at start-up.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>The stored values; <see cref="StoredSettings.Empty"/> (version 0) when nothing was ever stored.</summary>
    Task<StoredSettings> GetAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Replaces every stored value with <paramref name="values"/> when the stored version still equals
    /// <paramref name="expectedVersion"/>, and returns the new state (version + 1). Returns null, storing
    /// nothing, when another write came first.
    /// </summary>
    Task<StoredSettings?> TryPutAsync(IReadOnlyDictionary<string, string> values, long expectedVersion, DateTimeOffset updatedAt, CancellationToken cancellationToken);
}

/// <summary>A version of the stored settings. Keys compare ordinally.</summary>
public sealed record StoredSettings(IReadOnlyDictionary<string, string> Values, long Version, DateTimeOffset? UpdatedAt)
{
    /// <summary>Nothing stored yet.</summary>
    public static StoredSettings Empty { get; } = new(new Dictionary<string, string>(StringComparer.Ordinal), 0, null);
}
