using Notify.Core.Preferences;

namespace Notify.Core.Storage.Sqlite;

/// <summary><see cref="IPreferencesStore"/> as rows of the <c>preferences</c> table (one per owner, the document as JSON text).</summary>
public sealed class SqlitePreferencesStore(SqliteDatabase database) : IPreferencesStore
{
    internal const string SchemaSql = """
        CREATE TABLE IF NOT EXISTS preferences (
            owner       TEXT    NOT NULL PRIMARY KEY,
            version     INTEGER NOT NULL,
            updated_at  INTEGER NOT NULL,
            preferences TEXT    NOT NULL
        );
        """;

    private const string GetSql = "SELECT version, updated_at, preferences FROM preferences WHERE owner = $owner";
    private const string InsertSql = "INSERT INTO preferences (owner, version, updated_at, preferences) VALUES ($owner, 1, $updated, $preferences) ON CONFLICT (owner) DO NOTHING";
    private const string UpdateSql = "UPDATE preferences SET version = version + 1, updated_at = $updated, preferences = $preferences WHERE owner = $owner AND version = $expected";

    public Task InitializeAsync(CancellationToken cancellationToken) =>
        database.ExclusiveWriteAsync(session => session.Command(SchemaSql).ExecuteNonQuery(), cancellationToken).AsTask();

    public async Task<StoredPreferences> GetAsync(string owner, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(owner);
        return await database.ReadAsync(session =>
        {
            var command = session.Command(GetSql);
            command.Parameters.AddWithValue("$owner", owner);
            using var reader = command.ExecuteReader();
            return reader.Read()
                ? new StoredPreferences(
                    PreferenceResolver.Deserialize(reader.GetString(2)),
                    reader.GetInt64(0),
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)))
                : StoredPreferences.Empty;
        }, cancellationToken);
    }

    public async Task<StoredPreferences?> TryPutAsync(string owner, NotificationPreferences preferences, long expectedVersion, DateTimeOffset updatedAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(preferences);
        ArgumentOutOfRangeException.ThrowIfNegative(expectedVersion);
        var json = PreferenceResolver.Serialize(preferences);
        var stored = await database.WriteAsync(session =>
        {
            var command = session.Command(expectedVersion == 0 ? InsertSql : UpdateSql);
            command.Parameters.AddWithValue("$owner", owner);
            command.Parameters.AddWithValue("$updated", updatedAt.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$preferences", json);
            if (expectedVersion != 0)
            {
                command.Parameters.AddWithValue("$expected", expectedVersion);
            }
            return command.ExecuteNonQuery() == 1;
        }, cancellationToken);
        return stored
            ? new StoredPreferences(PreferenceResolver.Deserialize(json), expectedVersion + 1, DateTimeOffset.FromUnixTimeMilliseconds(updatedAt.ToUnixTimeMilliseconds()))
            : null;
    }
}
