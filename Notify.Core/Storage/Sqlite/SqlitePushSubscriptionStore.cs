using Notify.Core.Push;

namespace Notify.Core.Storage.Sqlite;

/// <summary><see cref="IPushSubscriptionStore"/> as the <c>push_subscriptions</c> table (one row per endpoint).</summary>
public sealed class SqlitePushSubscriptionStore(SqliteDatabase database) : IPushSubscriptionStore
{
    internal const string SchemaSql = """
        CREATE TABLE IF NOT EXISTS push_subscriptions (
            id         TEXT    PRIMARY KEY,
            user_id    TEXT    NOT NULL,
            endpoint   TEXT    NOT NULL,
            p256dh     TEXT    NOT NULL,
            auth       TEXT    NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS ix_push_subscriptions_user ON push_subscriptions (user_id, created_at);
        """;

    private const string Columns = "id, user_id, endpoint, p256dh, auth, created_at";

    public Task InitializeAsync(CancellationToken cancellationToken) =>
        database.ExclusiveWriteAsync(session => session.Command(SchemaSql).ExecuteNonQuery(), cancellationToken).AsTask();

    public async Task<PushSaveOutcome> SaveAsync(PushSubscription subscription, int maxPerUser, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        // Writes run one at a time, so the count and the insert cannot interleave with another save.
        return await database.WriteAsync(session =>
        {
            var update = session.Command("UPDATE push_subscriptions SET user_id = $user, p256dh = $p256dh, auth = $auth WHERE id = $id");
            Bind(update, subscription);
            if (update.ExecuteNonQuery() == 1)
            {
                return PushSaveOutcome.Updated;
            }
            var count = session.Command("SELECT COUNT(*) FROM push_subscriptions WHERE user_id = $user");
            count.Parameters.AddWithValue("$user", subscription.UserId);
            if ((long)count.ExecuteScalar()! >= maxPerUser)
            {
                return PushSaveOutcome.LimitReached;
            }
            var insert = session.Command($"INSERT INTO push_subscriptions ({Columns}) VALUES ($id, $user, $endpoint, $p256dh, $auth, $created)");
            Bind(insert, subscription);
            insert.Parameters.AddWithValue("$endpoint", subscription.Endpoint);
            insert.Parameters.AddWithValue("$created", subscription.CreatedAt.ToUnixTimeMilliseconds());
            insert.ExecuteNonQuery();
            return PushSaveOutcome.Created;
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<PushSubscription>> ListAsync(string userId, CancellationToken cancellationToken) =>
        await database.ReadAsync(session =>
        {
            var command = session.Command($"SELECT {Columns} FROM push_subscriptions WHERE user_id = $user ORDER BY created_at, id");
            command.Parameters.AddWithValue("$user", userId);
            using var reader = command.ExecuteReader();
            var list = new List<PushSubscription>();
            while (reader.Read())
            {
                list.Add(new PushSubscription
                {
                    Id = reader.GetString(0),
                    UserId = reader.GetString(1),
                    Endpoint = reader.GetString(2),
                    P256dh = reader.GetString(3),
                    Auth = reader.GetString(4),
                    CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)),
                });
            }
            return (IReadOnlyList<PushSubscription>)list;
        }, cancellationToken);

    public async Task<bool> DeleteAsync(string userId, string id, CancellationToken cancellationToken) =>
        await database.WriteAsync(session =>
        {
            var command = session.Command("DELETE FROM push_subscriptions WHERE id = $id AND user_id = $user");
            command.Parameters.AddWithValue("$id", id);
            command.Parameters.AddWithValue("$user", userId);
            return command.ExecuteNonQuery() == 1;
        }, cancellationToken);

    public Task<bool> DeleteByEndpointAsync(string endpoint, CancellationToken cancellationToken) =>
        DeleteAnyAsync(PushSubscription.IdOf(endpoint), cancellationToken);

    private async Task<bool> DeleteAnyAsync(string id, CancellationToken cancellationToken) =>
        await database.WriteAsync(session =>
        {
            var command = session.Command("DELETE FROM push_subscriptions WHERE id = $id");
            command.Parameters.AddWithValue("$id", id);
            return command.ExecuteNonQuery() == 1;
        }, cancellationToken);

    private static void Bind(Microsoft.Data.Sqlite.SqliteCommand command, PushSubscription subscription)
    {
        command.Parameters.AddWithValue("$id", subscription.Id);
        command.Parameters.AddWithValue("$user", subscription.UserId);
        command.Parameters.AddWithValue("$p256dh", subscription.P256dh);
        command.Parameters.AddWithValue("$auth", subscription.Auth);
    }
}
