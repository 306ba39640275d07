using System.Text.Json;
using Notify.Core.Settings;

namespace Notify.Core.Storage.Sqlite;

/// <summary><see cref="ISettingsStore"/> as one row of the <c>runtime_settings</c> table (values as a JSON object).</summary>
public sealed class SqliteSettingsStore(SqliteDatabase database) : ISettingsStore
{
    internal const string SchemaSql = """
        CREATE TABLE IF NOT EXISTS runtime_settings (
            id         INTEGER PRIMARY KEY CHECK (id = 1),
            version    INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            settings   TEXT    NOT NULL
        );
        """;

    private const string GetSql = "SELECT version, updated_at, settings FROM runtime_settings WHERE id = 1";
    private const string InsertSql = "INSERT INTO runtime_settings (id, version, updated_at, settings) VALUES (1, 1, $updated, $settings) ON CONFLICT (id) DO NOTHING";
    private const string UpdateSql = "UPDATE runtime_settings SET version = version + 1, updated_at = $updated, settings = $settings WHERE id = 1 AND version = $expected";

    public Task InitializeAsync(CancellationToken cancellationToken) =>
        database.ExclusiveWriteAsync(session => session.Command(SchemaSql).ExecuteNonQuery(), cancellationToken).AsTask();

    public async Task<StoredSettings> GetAsync(CancellationToken cancellationToken) =>
        await database.ReadAsync(session =>
        {
            using var reader = session.Command(GetSql).ExecuteReader();
            if (!reader.Read())
            {
                return StoredSettings.Empty;
            }
            var values = JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(2)) ?? [];
            return new StoredSettings(
                new Dictionary<string, string>(values, StringComparer.Ordinal),
                reader.GetInt64(0),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)));
        }, cancellationToken);

    public async Task<StoredSettings?> TryPutAsync(IReadOnlyDictionary<string, string> values, long expectedVersion, DateTimeOffset updatedAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfNegative(expectedVersion);
        var json = JsonSerializer.Serialize(values);
        var stored = await database.WriteAsync(session =>
        {
            var command = session.Command(expectedVersion == 0 ? InsertSql : UpdateSql);
            command.Parameters.AddWithValue("$updated", updatedAt.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$settings", json);
            if (expectedVersion != 0)
            {
                command.Parameters.AddWithValue("$expected", expectedVersion);
            }
            return command.ExecuteNonQuery() == 1;
        }, cancellationToken);
        return stored
            ? new StoredSettings(new Dictionary<string, string>(values, StringComparer.Ordinal), expectedVersion + 1, DateTimeOffset.FromUnixTimeMilliseconds(updatedAt.ToUnixTimeMilliseconds()))
            : null;
    }
}
