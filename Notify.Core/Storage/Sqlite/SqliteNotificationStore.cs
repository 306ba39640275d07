using System.Text.Json;
using Microsoft.Data.Sqlite;
using Notify.Core.Notifications;

namespace Notify.Core.Storage.Sqlite;

/// <summary>
/// <see cref="INotificationStore"/> on a SQLite file (the embedded default). Several processes may share
/// the file: WAL lets readers run beside the single writer, the busy timeout makes writers of different
/// processes take turns, and the unique (user_id, idempotency_caller, idempotency_key) index makes
/// idempotent creates race-safe across them. The writer's lock also orders ids: a create reads the user's
/// greatest id and inserts above it inside one write transaction, which no other process can interleave with.
/// </summary>
public sealed partial class SqliteNotificationStore(SqliteDatabase database) : INotificationStore
{
    private const string Columns = "id, user_id, type, title, content, link, source, severity, status, created_at, read_at, metadata, seen_at, archived_at, snoozed_until";

    /// <summary>How many fields <see cref="Columns"/> names (the ordinal of whatever a query selects after them).</summary>
    private const int ColumnCount = 15;

    private const string InsertSql = $"""
        INSERT INTO notifications ({Columns}, idempotency_key, idempotency_caller, request_hash, pending, push_due)
        VALUES ($id, $user, $type, $title, $content, $link, $source, $severity, $status, $created, $read, $metadata, $seen, $archived, $snoozed, $key, $caller, $hash, 1, $created)
        ON CONFLICT (user_id, idempotency_caller, idempotency_key) DO NOTHING
        """;

    // The greatest id the user has or had: new ids go above it.
    private const string FloorSql = """
        SELECT max(coalesce((SELECT MAX(id) FROM notifications WHERE user_id = $user), ''),
                   coalesce((SELECT last_id FROM notification_floors WHERE user_id = $user), ''))
        """;

    private const string RaiseFloorSql = """
        INSERT INTO notification_floors (user_id, last_id) VALUES ($user, $id)
        ON CONFLICT (user_id) DO UPDATE SET last_id = max(last_id, excluded.last_id)
        """;

    private const string UnpublishedSql = $"SELECT {Columns} FROM notifications WHERE pending = 1 ORDER BY id LIMIT $limit";
    private const string MarkPublishedSql = "UPDATE notifications SET pending = 0 WHERE user_id = $user AND id = $id AND pending = 1";

    private const string ByKeySql = $"""
        SELECT {Columns}, request_hash FROM notifications
        WHERE user_id = $user AND idempotency_caller = $caller AND idempotency_key = $key
        """;
    private const string GetSql = $"SELECT {Columns} FROM notifications WHERE user_id = $user AND id = $id";
    private const string ListAfterSql = $"SELECT {Columns} FROM notifications WHERE user_id = $user AND id > $after ORDER BY id LIMIT $limit";
    private const string CountUnreadSql = "SELECT COUNT(*) FROM notifications WHERE user_id = $user AND status = 0";
    private const string MarkReadSql = "UPDATE notifications SET status = 1, read_at = $read, seen_at = COALESCE(seen_at, $read) WHERE user_id = $user AND id = $id AND status = 0";
    private const string ExistsSql = "SELECT 1 FROM notifications WHERE user_id = $user AND id = $id";
    private const string MarkAllReadSql = "UPDATE notifications SET status = 1, read_at = $read, seen_at = COALESCE(seen_at, $read) WHERE user_id = $user AND status = 0";
    private const string CountUnseenSql = "SELECT COUNT(*) FROM notifications WHERE user_id = $user AND seen_at IS NULL AND archived_at IS NULL AND snoozed_until IS NULL";
    private const string MarkSeenSql = "UPDATE notifications SET seen_at = COALESCE(seen_at, $at) WHERE user_id = $user AND id = $id";
    private const string SetArchivedSql = "UPDATE notifications SET archived_at = CASE WHEN $at IS NULL THEN NULL ELSE COALESCE(archived_at, $at) END WHERE user_id = $user AND id = $id";
    private const string SnoozeSql = "UPDATE notifications SET snoozed_until = $until WHERE user_id = $user AND id = $id";

    // One statement: each due row is cleared by exactly one writer (SQLite has one writer per file), and
    // RETURNING hands that writer the rows it cleared.
    private const string WakeSql = $"""
        UPDATE notifications SET snoozed_until = NULL, status = 0, read_at = NULL, seen_at = NULL, push_due = $now, push_lease = NULL
        WHERE rowid IN (SELECT rowid FROM notifications WHERE snoozed_until IS NOT NULL AND snoozed_until <= $now ORDER BY snoozed_until LIMIT $limit)
        RETURNING {Columns}
        """;
    private const string DeleteSql = "DELETE FROM notifications WHERE user_id = $user AND id = $id";

    private const string DeleteOlderSql = """
        DELETE FROM notifications WHERE rowid IN
            (SELECT rowid FROM notifications WHERE created_at < $cutoff LIMIT $batch)
        """;

    private const string UsersOverCapSql = """
        SELECT user_id FROM notifications WHERE user_id > $after
        GROUP BY user_id HAVING COUNT(*) > $keep ORDER BY user_id LIMIT $page
        """;

    private const string DeleteBeyondCapSql = """
        DELETE FROM notifications WHERE rowid IN
            (SELECT rowid FROM notifications WHERE user_id = $user ORDER BY id DESC LIMIT $batch OFFSET $keep)
        """;

    // Times are Unix milliseconds; status 0 = unread, 1 = read; severity is the enum's name; pending 1 = in
    // the outbox (not yet published); push_due = waiting for Web Push since, push_lease = claimed until
    // (IPushOutbox). notification_floors keeps, per user, the greatest id deleted.
    internal const string SchemaSql = """
        CREATE TABLE IF NOT EXISTS notifications (
            id              TEXT    NOT NULL,
            user_id         TEXT    NOT NULL,
            type            TEXT    NOT NULL,
            title           TEXT    NOT NULL,
            content         TEXT    NOT NULL,
            link            TEXT,
            source          TEXT,
            severity        TEXT    NOT NULL,
            status          INTEGER NOT NULL,
            created_at      INTEGER NOT NULL,
            read_at         INTEGER,
            metadata        TEXT,
            seen_at         INTEGER,
            archived_at     INTEGER,
            snoozed_until   INTEGER,
            idempotency_key TEXT,
            idempotency_caller TEXT,
            request_hash    TEXT,
            pending         INTEGER NOT NULL DEFAULT 0,
            push_due        INTEGER,
            push_lease      INTEGER
        );
        CREATE UNIQUE INDEX IF NOT EXISTS ux_notifications_user_id ON notifications (user_id, id);
        CREATE INDEX IF NOT EXISTS ix_notifications_user_status_id ON notifications (user_id, status, id);
        CREATE INDEX IF NOT EXISTS ix_notifications_created_at ON notifications (created_at);
        """;

    // Idempotency keys are scoped by caller. A file made before that has neither column (they are added)
    // and a per-user key index (replaced); its keyed rows have no caller and so match no new key.
    // Seen, archive and snooze came later too: files made before have none of these columns (added, NULL).
    private static readonly (string Name, string Type)[] AddedColumns =
    [
        ("idempotency_caller", "TEXT"), ("request_hash", "TEXT"),
        ("seen_at", "INTEGER"), ("archived_at", "INTEGER"), ("snoozed_until", "INTEGER"),
        ("push_due", "INTEGER"), ("push_lease", "INTEGER"),
    ];

    private const string IdempotencyIndexSql = """
        DROP INDEX IF EXISTS ux_notifications_user_idempotency;
        CREATE UNIQUE INDEX IF NOT EXISTS ux_notifications_user_caller_idempotency
            ON notifications (user_id, idempotency_caller, idempotency_key);
        CREATE INDEX IF NOT EXISTS ix_notifications_snoozed_until ON notifications (snoozed_until) WHERE snoozed_until IS NOT NULL;
        CREATE INDEX IF NOT EXISTS ix_notifications_push_due ON notifications (push_due) WHERE push_due IS NOT NULL;
        """;

    // Added in schema version 2 (a file made by version 1 gets the pending column first).
    private const string SchemaV2Sql = """
        CREATE INDEX IF NOT EXISTS ix_notifications_pending ON notifications (id) WHERE pending = 1;
        CREATE TABLE IF NOT EXISTS notification_floors (
            user_id TEXT NOT NULL PRIMARY KEY,
            last_id TEXT NOT NULL
        ) WITHOUT ROWID;
        """;

    /// <summary>Page size of the user scan of per-user retention.</summary>
    private const int RetentionUserPage = 500;

    public Task InitializeAsync(CancellationToken cancellationToken) =>
        database.ExclusiveWriteAsync(session =>
        {
            // One immediate transaction: services starting together on one file migrate it once.
            using var transaction = session.Connection.BeginTransaction(deferred: false);
            session.Transaction = transaction;
            try
            {
                session.Command(SchemaSql).ExecuteNonQuery();
                var existing = new HashSet<string>(StringComparer.Ordinal);
                using (var reader = session.Command("SELECT name FROM pragma_table_info('notifications')").ExecuteReader())
                {
                    while (reader.Read())
                    {
                        existing.Add(reader.GetString(0));
                    }
                }
                foreach (var (name, type) in AddedColumns.Where(c => !existing.Contains(c.Name)))
                {
                    session.Command($"ALTER TABLE notifications ADD COLUMN {name} {type}").ExecuteNonQuery();
                }
                if (!existing.Contains("pending"))
                {
                    session.Command("ALTER TABLE notifications ADD COLUMN pending INTEGER NOT NULL DEFAULT 0").ExecuteNonQuery();
                }
                var changed = session.Command(IdempotencyIndexSql).ExecuteNonQuery() + session.Command(SchemaV2Sql).ExecuteNonQuery();
                transaction.Commit();
                return changed;
            }
            finally
            {
                session.Transaction = null;
            }
        }, cancellationToken).AsTask();

    public async Task<CreateResult> CreateAsync(Notification notification, IdempotencyKey? idempotency, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(notification);
        return await database.WriteAsync(session =>
        {
            var floor = session.Command(FloorSql);
            floor.Parameters.AddWithValue("$user", notification.UserId);
            var id = NotificationIds.Above(notification.Id, (string?)floor.ExecuteScalar());
            var insert = session.Command(InsertSql);
            var p = insert.Parameters;
            p.AddWithValue("$id", id);
            p.AddWithValue("$user", notification.UserId);
            p.AddWithValue("$type", notification.Type);
            p.AddWithValue("$title", notification.Title);
            p.AddWithValue("$content", notification.Content);
            p.AddWithValue("$link", (object?)notification.Link ?? DBNull.Value);
            p.AddWithValue("$source", (object?)notification.Source ?? DBNull.Value);
            p.AddWithValue("$severity", StoredNotification.SeverityName(notification.Severity));
            p.AddWithValue("$status", notification.Status == NotificationStatus.Read ? 1 : 0);
            p.AddWithValue("$created", notification.CreatedAt.ToUnixTimeMilliseconds());
            p.AddWithValue("$read", notification.ReadAt is { } readAt ? readAt.ToUnixTimeMilliseconds() : DBNull.Value);
            p.AddWithValue("$metadata", notification.Metadata is { } metadata ? metadata.GetRawText() : DBNull.Value);
            p.AddWithValue("$seen", Millis(notification.SeenAt));
            p.AddWithValue("$archived", Millis(notification.ArchivedAt));
            p.AddWithValue("$snoozed", Millis(notification.SnoozedUntil));
            p.AddWithValue("$key", (object?)idempotency?.Key ?? DBNull.Value);
            p.AddWithValue("$caller", (object?)idempotency?.Caller ?? DBNull.Value);
            p.AddWithValue("$hash", (object?)idempotency?.RequestHash ?? DBNull.Value);
            if (insert.ExecuteNonQuery() == 1)
            {
                return new CreateResult(StoredNotification.AsStored(notification with { Id = id }), Created: true);
            }

            var byKey = session.Command(ByKeySql);
            byKey.Parameters.AddWithValue("$user", notification.UserId);
            byKey.Parameters.AddWithValue("$caller", idempotency!.Caller);
            byKey.Parameters.AddWithValue("$key", idempotency.Key);
            using var reader = byKey.ExecuteReader();
            if (!reader.Read())
            {
                throw new InvalidOperationException("A create conflicted on its idempotency key but the first row is gone.");
            }
            var existing = Map(reader);
            var hash = reader.IsDBNull(ColumnCount) ? null : reader.GetString(ColumnCount);
            return new CreateResult(existing, Created: false) { RequestMismatch = !string.Equals(hash, idempotency.RequestHash, StringComparison.Ordinal) };
        }, cancellationToken);
    }

    public async Task<Notification?> GetAsync(string userId, string id, CancellationToken cancellationToken) =>
        await database.ReadAsync(session =>
        {
            var command = session.Command(GetSql);
            command.Parameters.AddWithValue("$user", userId);
            command.Parameters.AddWithValue("$id", id);
            return ReadSingle(command);
        }, cancellationToken);

    public async Task<NotificationPage> ListAsync(string userId, NotificationQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(query.Limit, 100);
        var sql = ListSql(query);
        var items = await database.ReadAsync(session =>
        {
            var command = session.Command(sql);
            command.Parameters.AddWithValue("$user", userId);
            if (query.Status is { } status)
            {
                command.Parameters.AddWithValue("$status", status == NotificationStatus.Read ? 1 : 0);
            }
            if (query.Type is { } type)
            {
                command.Parameters.AddWithValue("$type", type);
            }
            if (query.Before is { } before)
            {
                command.Parameters.AddWithValue("$before", before);
            }
            // One extra row tells whether another page exists, so the last page's cursor is null.
            command.Parameters.AddWithValue("$limit", query.Limit + 1);
            return ReadAll(command);
        }, cancellationToken);
        return Page(items, query.Limit);
    }

    public async Task<IReadOnlyList<Notification>> ListAfterAsync(string userId, string afterId, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(afterId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return await database.ReadAsync(session =>
        {
            var command = session.Command(ListAfterSql);
            command.Parameters.AddWithValue("$user", userId);
            command.Parameters.AddWithValue("$after", afterId);
            command.Parameters.AddWithValue("$limit", limit);
            return ReadAll(command);
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<Notification>> ListUnpublishedAsync(int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return await database.ReadAsync(session =>
        {
            var command = session.Command(UnpublishedSql);
            command.Parameters.AddWithValue("$limit", limit);
            return ReadAll(command);
        }, cancellationToken);
    }

    public Task MarkPublishedAsync(IReadOnlyCollection<NotificationKey> notifications, CancellationToken cancellationToken) =>
        UpdateEachAsync(MarkPublishedSql, notifications, cancellationToken);

    /// <summary>Runs <paramref name="sql"/> (parameters <c>$user</c>, <c>$id</c>) for each notification, in one write.</summary>
    private async Task UpdateEachAsync(string sql, IReadOnlyCollection<NotificationKey> notifications, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(notifications);
        if (notifications.Count == 0)
        {
            return;
        }
        await database.WriteAsync(session =>
        {
            foreach (var (userId, id) in notifications)
            {
                var update = session.Command(sql);
                update.Parameters.AddWithValue("$user", userId);
                update.Parameters.AddWithValue("$id", id);
                update.ExecuteNonQuery();
            }
            return 0;
        }, cancellationToken);
    }

    public async Task<long> CountUnreadAsync(string userId, CancellationToken cancellationToken) =>
        await database.ReadAsync(session =>
        {
            var command = session.Command(CountUnreadSql);
            command.Parameters.AddWithValue("$user", userId);
            return (long)command.ExecuteScalar()!;
        }, cancellationToken);

    public async Task<bool> MarkReadAsync(string userId, string id, DateTimeOffset readAt, CancellationToken cancellationToken) =>
        await database.WriteAsync(session =>
        {
            var update = session.Command(MarkReadSql);
            update.Parameters.AddWithValue("$user", userId);
            update.Parameters.AddWithValue("$id", id);
            update.Parameters.AddWithValue("$read", readAt.ToUnixTimeMilliseconds());
            if (update.ExecuteNonQuery() == 1)
            {
                return true;
            }
            var exists = session.Command(ExistsSql);
            exists.Parameters.AddWithValue("$user", userId);
            exists.Parameters.AddWithValue("$id", id);
            return exists.ExecuteScalar() is not null;
        }, cancellationToken);

    public async Task<long> MarkAllReadAsync(string userId, DateTimeOffset readAt, CancellationToken cancellationToken) =>
        await database.WriteAsync(session =>
        {
            var update = session.Command(MarkAllReadSql);
            update.Parameters.AddWithValue("$user", userId);
            update.Parameters.AddWithValue("$read", readAt.ToUnixTimeMilliseconds());
            return (long)update.ExecuteNonQuery();
        }, cancellationToken);

    public async Task<bool> DeleteAsync(string userId, string id, CancellationToken cancellationToken) =>
        await database.WriteAsync(session =>
        {
            var delete = session.Command(DeleteSql);
            delete.Parameters.AddWithValue("$user", userId);
            delete.Parameters.AddWithValue("$id", id);
            if (delete.ExecuteNonQuery() != 1)
            {
                return false;
            }
            // A client may hold the deleted id as its resume cursor: later ids must still sort after it.
            var floor = session.Command(RaiseFloorSql);
            floor.Parameters.AddWithValue("$user", userId);
            floor.Parameters.AddWithValue("$id", id);
            floor.ExecuteNonQuery();
            return true;
        }, cancellationToken);

    public async Task<long> ApplyRetentionAsync(DateTimeOffset olderThan, int? keepNewestPerUser, int batchSize, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (keepNewestPerUser is { } keep)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(keep);
        }

        // Every batch is its own short write, and the write gate is released between batches, so
        // creates and mark-reads interleave with a long clean-up instead of waiting for all of it.
        long deleted = 0;
        var cutoff = olderThan.ToUnixTimeMilliseconds();
        int changed;
        do
        {
            changed = await database.ExclusiveWriteAsync(session =>
            {
                var delete = session.Command(DeleteOlderSql);
                delete.Parameters.AddWithValue("$cutoff", cutoff);
                delete.Parameters.AddWithValue("$batch", batchSize);
                return delete.ExecuteNonQuery();
            }, cancellationToken);
            deleted += changed;
        }
        while (changed == batchSize);

        if (keepNewestPerUser is not { } cap)
        {
            return deleted;
        }

        var afterUser = "";
        while (true)
        {
            var users = await database.ReadAsync(session =>
            {
                var command = session.Command(UsersOverCapSql);
                command.Parameters.AddWithValue("$after", afterUser);
                command.Parameters.AddWithValue("$keep", cap);
                command.Parameters.AddWithValue("$page", RetentionUserPage);
                using var reader = command.ExecuteReader();
                var list = new List<string>();
                while (reader.Read())
                {
                    list.Add(reader.GetString(0));
                }
                return list;
            }, cancellationToken);

            // Users share a transaction until it has deleted batchSize rows: short transactions, but
            // not one commit per user when many users are a little over the cap.
            var pending = new Queue<string>(users);
            while (pending.Count > 0)
            {
                deleted += await database.ExclusiveWriteAsync(session =>
                {
                    using var transaction = session.Connection.BeginTransaction(deferred: false);
                    session.Transaction = transaction;
                    try
                    {
                        long inBatch = 0;
                        while (pending.Count > 0 && inBatch < batchSize)
                        {
                            var budget = batchSize - inBatch;
                            var delete = session.Command(DeleteBeyondCapSql);
                            delete.Parameters.AddWithValue("$user", pending.Peek());
                            delete.Parameters.AddWithValue("$keep", cap);
                            delete.Parameters.AddWithValue("$batch", budget);
                            var count = delete.ExecuteNonQuery();
                            inBatch += count;
                            if (count < budget)
                            {
                                pending.Dequeue();
                            }
                        }
                        transaction.Commit();
                        return inBatch;
                    }
                    finally
                    {
                        session.Transaction = null;
                    }
                }, cancellationToken);
            }

            if (users.Count < RetentionUserPage)
            {
                return deleted;
            }
            afterUser = users[^1];
        }
    }

    // Every combination of filters, built once: 2 (status) × 2 (type) × 2 (before) × 4 (view) × 2 (unseen).
    private static readonly string[] ListSqls = BuildListSqls();

    private static string[] BuildListSqls()
    {
        var sqls = new string[64];
        for (var i = 0; i < sqls.Length; i++)
        {
            var where = "user_id = $user";
            if ((i & 1) != 0)
            {
                where += " AND status = $status";
            }
            if ((i & 2) != 0)
            {
                where += " AND type = $type";
            }
            if ((i & 4) != 0)
            {
                where += " AND id < $before";
            }
            where += ((i >> 3) & 3) switch
            {
                (int)InboxView.Default => " AND archived_at IS NULL AND snoozed_until IS NULL",
                (int)InboxView.Archived => " AND archived_at IS NOT NULL",
                (int)InboxView.Snoozed => " AND archived_at IS NULL AND snoozed_until IS NOT NULL",
                _ => "",
            };
            if ((i & 32) != 0)
            {
                where += " AND seen_at IS NULL";
            }
            sqls[i] = $"SELECT {Columns} FROM notifications WHERE {where} ORDER BY id DESC LIMIT $limit";
        }
        return sqls;
    }

    private static string ListSql(NotificationQuery query) =>
        ListSqls[(query.Status is null ? 0 : 1) | (query.Type is null ? 0 : 2) | (query.Before is null ? 0 : 4)
            | ((int)query.View << 3) | (query.UnseenOnly ? 32 : 0)];

    public async Task<long> CountUnseenAsync(string userId, CancellationToken cancellationToken) =>
        await database.ReadAsync(session =>
        {
            var command = session.Command(CountUnseenSql);
            command.Parameters.AddWithValue("$user", userId);
            return (long)command.ExecuteScalar()!;
        }, cancellationToken);

    public Task<bool> MarkSeenAsync(string userId, string id, DateTimeOffset seenAt, CancellationToken cancellationToken) =>
        UpdateOneAsync(MarkSeenSql, userId, id, "$at", seenAt, cancellationToken);

    public Task<bool> SetArchivedAsync(string userId, string id, DateTimeOffset? archivedAt, CancellationToken cancellationToken) =>
        UpdateOneAsync(SetArchivedSql, userId, id, "$at", archivedAt, cancellationToken);

    public Task<bool> SnoozeAsync(string userId, string id, DateTimeOffset? until, CancellationToken cancellationToken) =>
        UpdateOneAsync(SnoozeSql, userId, id, "$until", until, cancellationToken);

    private async Task<bool> UpdateOneAsync(string sql, string userId, string id, string name, DateTimeOffset? value, CancellationToken cancellationToken) =>
        await database.WriteAsync(session =>
        {
            var update = session.Command(sql);
            update.Parameters.AddWithValue("$user", userId);
            update.Parameters.AddWithValue("$id", id);
            update.Parameters.AddWithValue(name, Millis(value));
            return update.ExecuteNonQuery() == 1;
        }, cancellationToken);

    public async Task<IReadOnlyList<Notification>> WakeDueSnoozesAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return await database.WriteAsync(session =>
        {
            var wake = session.Command(WakeSql);
            wake.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
            wake.Parameters.AddWithValue("$limit", limit);
            return ReadAll(wake);
        }, cancellationToken);
    }

    public async Task<long> BulkAsync(string userId, BulkFilter filter, BulkAction action, DateTimeOffset at, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var where = "user_id = $user" + action switch
        {
            BulkAction.Read => " AND archived_at IS NULL AND status = 0",
            BulkAction.Seen => " AND archived_at IS NULL AND seen_at IS NULL",
            BulkAction.Archive => " AND archived_at IS NULL",
            _ => "",
        };
        where += filter.Type is null ? "" : " AND type = $type";
        where += filter.Before is null ? "" : " AND created_at < $before";
        where += filter.Status is null ? "" : " AND status = $status";
        var rows = $"rowid IN (SELECT rowid FROM notifications WHERE {where} LIMIT $limit)";
        var sql = action switch
        {
            BulkAction.Read => $"UPDATE notifications SET status = 1, read_at = $at, seen_at = COALESCE(seen_at, $at) WHERE {rows}",
            BulkAction.Seen => $"UPDATE notifications SET seen_at = $at WHERE {rows}",
            BulkAction.Archive => $"UPDATE notifications SET archived_at = $at WHERE {rows}",
            _ => $"DELETE FROM notifications WHERE {rows}",
        };
        return await database.WriteAsync(session =>
        {
            var command = session.Command(sql);
            var p = command.Parameters;
            p.AddWithValue("$user", userId);
            p.AddWithValue("$limit", limit);
            if (action != BulkAction.Delete)
            {
                p.AddWithValue("$at", at.ToUnixTimeMilliseconds());
            }
            if (filter.Type is { } type)
            {
                p.AddWithValue("$type", type);
            }
            if (filter.Before is { } before)
            {
                p.AddWithValue("$before", before.ToUnixTimeMilliseconds());
            }
            if (filter.Status is { } status)
            {
                p.AddWithValue("$status", status == NotificationStatus.Read ? 1 : 0);
            }
            return (long)command.ExecuteNonQuery();
        }, cancellationToken);
    }

    private static object Millis(DateTimeOffset? value) => value is { } v ? v.ToUnixTimeMilliseconds() : DBNull.Value;

    private static DateTimeOffset? FromMillis(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(ordinal));

    internal static NotificationPage Page(List<Notification> items, int limit)
    {
        if (items.Count <= limit)
        {
            return new NotificationPage(items, NextCursor: null);
        }
        items.RemoveAt(items.Count - 1);
        return new NotificationPage(items, items[^1].Id);
    }

    private static Notification? ReadSingle(SqliteCommand command)
    {
        using var reader = command.ExecuteReader();
        return reader.Read() ? Map(reader) : null;
    }

    private static List<Notification> ReadAll(SqliteCommand command)
    {
        using var reader = command.ExecuteReader();
        var items = new List<Notification>();
        while (reader.Read())
        {
            items.Add(Map(reader));
        }
        return items;
    }

    private static Notification Map(SqliteDataReader reader) => new()
    {
        Id = reader.GetString(0),
        UserId = reader.GetString(1),
        Type = reader.GetString(2),
        Title = reader.GetString(3),
        Content = reader.GetString(4),
        Link = reader.IsDBNull(5) ? null : reader.GetString(5),
        Source = reader.IsDBNull(6) ? null : reader.GetString(6),
        Severity = StoredNotification.ParseSeverity(reader.GetString(7)),
        Status = reader.GetInt64(8) == 1 ? NotificationStatus.Read : NotificationStatus.Unread,
        CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(9)),
        ReadAt = FromMillis(reader, 10),
        Metadata = reader.IsDBNull(11) ? null : ParseMetadata(reader.GetString(11)),
        SeenAt = FromMillis(reader, 12),
        ArchivedAt = FromMillis(reader, 13),
        SnoozedUntil = FromMillis(reader, 14),
    };

    private static JsonElement ParseMetadata(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}
