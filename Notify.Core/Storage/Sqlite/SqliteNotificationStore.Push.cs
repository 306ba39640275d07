using Notify.Core.Notifications;
using Notify.Core.Push;

namespace Notify.Core.Storage.Sqlite;

/// <summary>The push outbox on the notifications table: <c>push_due</c> (waiting since) and <c>push_lease</c> (claimed until).</summary>
public sealed partial class SqliteNotificationStore : IPushOutbox
{
    private const string ExpirePushSql = """
        UPDATE notifications SET push_due = NULL, push_lease = NULL
        WHERE rowid IN (SELECT rowid FROM notifications WHERE push_due IS NOT NULL AND push_due < $oldest LIMIT $limit)
        """;

    // One statement: SQLite has one writer per file, so each waiting row is leased by exactly one claimer,
    // and RETURNING hands that claimer the rows it leased.
    private const string ClaimPushSql = $"""
        UPDATE notifications SET push_lease = $lease
        WHERE rowid IN (SELECT rowid FROM notifications
                        WHERE push_due IS NOT NULL AND push_due >= $oldest AND (push_lease IS NULL OR push_lease <= $now)
                        ORDER BY push_due LIMIT $limit)
        RETURNING {Columns}
        """;

    private const string CompletePushSql = "UPDATE notifications SET push_due = NULL, push_lease = NULL WHERE user_id = $user AND id = $id AND push_due IS NOT NULL";

    public async Task<PushClaim> ClaimAsync(DateTimeOffset now, DateTimeOffset oldest, DateTimeOffset leaseUntil, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return await database.WriteAsync(session =>
        {
            var expire = session.Command(ExpirePushSql);
            expire.Parameters.AddWithValue("$oldest", oldest.ToUnixTimeMilliseconds());
            expire.Parameters.AddWithValue("$limit", limit);
            var expired = expire.ExecuteNonQuery();
            var claim = session.Command(ClaimPushSql);
            claim.Parameters.AddWithValue("$oldest", oldest.ToUnixTimeMilliseconds());
            claim.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
            claim.Parameters.AddWithValue("$lease", leaseUntil.ToUnixTimeMilliseconds());
            claim.Parameters.AddWithValue("$limit", limit);
            var claimed = ReadAll(claim);
            // RETURNING does not keep the subquery's order.
            return new PushClaim([.. claimed.OrderBy(n => n.CreatedAt).ThenBy(n => n.Id, StringComparer.Ordinal)], expired);
        }, cancellationToken);
    }

    public Task CompleteAsync(IReadOnlyCollection<NotificationKey> notifications, CancellationToken cancellationToken) =>
        UpdateEachAsync(CompletePushSql, notifications, cancellationToken);
}
