using MongoDB.Bson;
using MongoDB.Driver;
using Notify.Core.Notifications;

namespace Notify.Core.Storage.Mongo;

/// <summary>
/// <see cref="INotificationStore"/> on MongoDB (production). One document per notification in the
/// <c>notifications</c> collection; <c>_id</c> is the ULID string, so sorting by <c>_id</c> is creation
/// order. Idempotency is race-safe across any number of Api instances through a unique partial index
/// on (user_id, idempotency_caller, idempotency_key): the loser of a race gets a duplicate-key error and
/// returns the winner.
/// </summary>
/// <remarks>
/// Commit order is id order without transactions (a standalone server has none): each document names
/// the user's newest document at the time it was written (<c>prev</c>), and (user_id, prev) is unique.
/// Two writers that read the same newest document cannot both insert after it; the loser reads again
/// and goes above the winner. A document is therefore only ever inserted above the newest visible one,
/// so it becomes visible after every document with a smaller id. Deleting a user's document first
/// raises the user's floor (<c>notification_floors</c>), so later ids also go above deleted ones.
/// </remarks>
public sealed partial class MongoNotificationStore : INotificationStore
{
    /// <summary>The collection name.</summary>
    public const string CollectionName = "notifications";

    private static readonly FilterDefinitionBuilder<BsonDocument> Filter = Builders<BsonDocument>.Filter;
    private static readonly SortDefinition<BsonDocument> NewestFirst = Builders<BsonDocument>.Sort.Descending(MongoNotificationDocument.Id);
    private static readonly SortDefinition<BsonDocument> OldestFirst = Builders<BsonDocument>.Sort.Ascending(MongoNotificationDocument.Id);
    private static readonly ProjectionDefinition<BsonDocument> IdOnly = Builders<BsonDocument>.Projection.Include(MongoNotificationDocument.Id);

    /// <summary>The collection of per-user floors: the greatest id each user deleted.</summary>
    public const string FloorsCollectionName = "notification_floors";

    /// <summary>Page size of the user scan of per-user retention.</summary>
    private const int RetentionUserPage = 500;

    /// <summary>Inserts retried when other writers keep committing first (each retry means one of them succeeded).</summary>
    private const int MaxCreateAttempts = 100;

    private const string PrevIndex = "user_id_prev";
    private const string IdempotencyIndex = "user_id_idempotency_caller_key";
    private const string FloorField = "last_id";

    private readonly IMongoCollection<BsonDocument> _collection;
    private readonly IMongoCollection<BsonDocument> _floors;

    /// <summary>A store on the <c>notifications</c> collection of <paramref name="database"/>.</summary>
    public MongoNotificationStore(IMongoDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        _collection = database.GetCollection<BsonDocument>(CollectionName);
        _floors = database.GetCollection<BsonDocument>(FloorsCollectionName);
    }

    /// <summary>The per-user key index of stores made before keys were scoped by caller; dropped at start.</summary>
    private const string UnscopedKeyIndex = "user_id_idempotency_key";

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _collection.Indexes.DropOneAsync(UnscopedKeyIndex, cancellationToken);
        }
        catch (MongoCommandException ex) when (ex.CodeName is "IndexNotFound" or "NamespaceNotFound")
        {
        }
        var keys = Builders<BsonDocument>.IndexKeys;
        await _collection.Indexes.CreateManyAsync(
        [
            new CreateIndexModel<BsonDocument>(
                keys.Ascending(MongoNotificationDocument.UserId).Descending(MongoNotificationDocument.Id),
                new CreateIndexOptions { Name = "user_id_id" }),
            new CreateIndexModel<BsonDocument>(
                keys.Ascending(MongoNotificationDocument.UserId).Ascending(MongoNotificationDocument.Status).Descending(MongoNotificationDocument.Id),
                new CreateIndexOptions { Name = "user_id_status_id" }),
            new CreateIndexModel<BsonDocument>(
                keys.Ascending(MongoNotificationDocument.CreatedAt),
                new CreateIndexOptions { Name = "created_at" }),
            new CreateIndexModel<BsonDocument>(
                keys.Ascending(MongoNotificationDocument.SnoozedUntil),
                new CreateIndexOptions<BsonDocument>
                {
                    Name = "snoozed_until",
                    PartialFilterExpression = Filter.Type(MongoNotificationDocument.SnoozedUntil, BsonType.DateTime),
                }),
            PartialIndex(keys.Ascending(MongoNotificationDocument.UserId).Ascending(MongoNotificationDocument.IdempotencyCaller).Ascending(MongoNotificationDocument.IdempotencyKey),
                IdempotencyIndex, MongoNotificationDocument.IdempotencyKey, unique: true),
            // Documents written before ids were ordered at commit have no prev.
            PartialIndex(keys.Ascending(MongoNotificationDocument.UserId).Ascending(MongoNotificationDocument.Prev),
                PrevIndex, MongoNotificationDocument.Prev, unique: true),
            PartialIndex(keys.Ascending(MongoNotificationDocument.Pending).Ascending(MongoNotificationDocument.Id),
                "pending_id", MongoNotificationDocument.Pending, unique: false),
            PartialIndex(keys.Ascending(MongoNotificationDocument.PushDue), "push_due", MongoNotificationDocument.PushDue, unique: false),
        ], cancellationToken);
    }

    public async Task<CreateResult> CreateAsync(Notification notification, IdempotencyKey? idempotency, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(notification);
        var keyedLookups = 0;
        var proposed = notification.Id;
        for (var attempt = 0; attempt < MaxCreateAttempts; attempt++)
        {
            // Newest first, then the floor: a delete raises the floor before it removes the document.
            var newest = await _collection.Find(Filter.Eq(MongoNotificationDocument.UserId, notification.UserId))
                .Sort(NewestFirst).Project(IdOnly).Limit(1).FirstOrDefaultAsync(cancellationToken);
            var prev = newest?[MongoNotificationDocument.Id].AsString ?? "";
            var floor = await _floors.Find(Filter.Eq("_id", notification.UserId)).FirstOrDefaultAsync(cancellationToken);
            var floorId = floor?[FloorField].AsString ?? "";
            var stored = notification with { Id = NotificationIds.Above(proposed, string.CompareOrdinal(prev, floorId) >= 0 ? prev : floorId) };
            var document = MongoNotificationDocument.ToBson(stored, idempotency);
            document.Add(MongoNotificationDocument.Prev, prev);
            document.Add(MongoNotificationDocument.Pending, true);
            document.Add(MongoNotificationDocument.PushDue, new BsonDateTime(stored.CreatedAt.UtcDateTime));
            try
            {
                await _collection.InsertOneAsync(document, options: null, cancellationToken);
                return new CreateResult(StoredNotification.AsStored(stored), Created: true);
            }
            catch (MongoWriteException ex) when (ex.WriteError?.Category == ServerErrorCategory.DuplicateKey)
            {
                if (idempotency is not null && IsDuplicateIn(ex, IdempotencyIndex))
                {
                    var existing = await _collection
                        .Find(Filter.Eq(MongoNotificationDocument.UserId, notification.UserId)
                            & Filter.Eq(MongoNotificationDocument.IdempotencyCaller, idempotency.Caller)
                            & Filter.Eq(MongoNotificationDocument.IdempotencyKey, idempotency.Key))
                        .FirstOrDefaultAsync(cancellationToken);
                    if (existing is not null)
                    {
                        var hash = existing.GetValue(MongoNotificationDocument.RequestHash, BsonNull.Value) is BsonString h ? h.Value : null;
                        return new CreateResult(MongoNotificationDocument.FromBson(existing), Created: false)
                        {
                            RequestMismatch = !string.Equals(hash, idempotency.RequestHash, StringComparison.Ordinal),
                        };
                    }
                    // The first row was deleted between our error and the lookup: try once more.
                    if (++keyedLookups > 1)
                    {
                        throw;
                    }
                }
                else if (IsDuplicateIn(ex, "_id_"))
                {
                    // Another user's document has this very id: step over it.
                    proposed = NotificationIds.Above(stored.Id, stored.Id);
                }
                // Otherwise another writer inserted after the same newest document: read again.
            }
        }
        throw new InvalidOperationException($"Creating a notification for one user lost {MaxCreateAttempts} races in a row to other writers.");
    }

    public async Task<IReadOnlyList<Notification>> ListUnpublishedAsync(int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var documents = await _collection.Find(Filter.Eq(MongoNotificationDocument.Pending, true)).Sort(OldestFirst).Limit(limit).ToListAsync(cancellationToken);
        return documents.ConvertAll(MongoNotificationDocument.FromBson);
    }

    public async Task MarkPublishedAsync(IReadOnlyCollection<NotificationKey> notifications, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(notifications);
        if (notifications.Count == 0)
        {
            return;
        }
        await _collection.UpdateManyAsync(
            Filter.In(MongoNotificationDocument.Id, notifications.Select(n => n.Id)) & Filter.Exists(MongoNotificationDocument.Pending),
            Builders<BsonDocument>.Update.Unset(MongoNotificationDocument.Pending),
            options: null,
            cancellationToken);
    }

    /// <summary>An index over the documents that have <paramref name="field"/>.</summary>
    private static CreateIndexModel<BsonDocument> PartialIndex(IndexKeysDefinition<BsonDocument> keys, string name, string field, bool unique) =>
        new(keys, new CreateIndexOptions<BsonDocument> { Name = name, Unique = unique, PartialFilterExpression = Filter.Exists(field) });

    /// <summary>Whether a duplicate-key error came from the index named <paramref name="index"/> (the server names it in the message).</summary>
    private static bool IsDuplicateIn(MongoWriteException ex, string index) =>
        ex.WriteError?.Message?.Contains("index: " + index + " ", StringComparison.Ordinal) == true;

    public async Task<Notification?> GetAsync(string userId, string id, CancellationToken cancellationToken)
    {
        var document = await _collection.Find(Own(userId, id)).FirstOrDefaultAsync(cancellationToken);
        return document is null ? null : MongoNotificationDocument.FromBson(document);
    }

    public async Task<NotificationPage> ListAsync(string userId, NotificationQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(query.Limit, 100);
        var filter = Filter.Eq(MongoNotificationDocument.UserId, userId);
        if (query.Status is { } status)
        {
            filter &= Filter.Eq(MongoNotificationDocument.Status, MongoNotificationDocument.StatusName(status));
        }
        if (query.Type is { } type)
        {
            filter &= Filter.Eq(MongoNotificationDocument.Type, type);
        }
        if (query.Before is { } before)
        {
            filter &= Filter.Lt(MongoNotificationDocument.Id, before);
        }
        filter &= query.View switch
        {
            InboxView.Default => IsNull(MongoNotificationDocument.ArchivedAt) & IsNull(MongoNotificationDocument.SnoozedUntil),
            InboxView.Archived => Filter.Not(IsNull(MongoNotificationDocument.ArchivedAt)),
            InboxView.Snoozed => IsNull(MongoNotificationDocument.ArchivedAt) & Filter.Not(IsNull(MongoNotificationDocument.SnoozedUntil)),
            _ => Filter.Empty,
        };
        if (query.UnseenOnly)
        {
            filter &= IsNull(MongoNotificationDocument.SeenAt);
        }
        var documents = await _collection.Find(filter).Sort(NewestFirst).Limit(query.Limit + 1).ToListAsync(cancellationToken);
        var items = documents.ConvertAll(MongoNotificationDocument.FromBson);
        if (items.Count <= query.Limit)
        {
            return new NotificationPage(items, NextCursor: null);
        }
        items.RemoveAt(items.Count - 1);
        return new NotificationPage(items, items[^1].Id);
    }

    public async Task<IReadOnlyList<Notification>> ListAfterAsync(string userId, string afterId, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(afterId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var filter = Filter.Eq(MongoNotificationDocument.UserId, userId) & Filter.Gt(MongoNotificationDocument.Id, afterId);
        var documents = await _collection.Find(filter).Sort(OldestFirst).Limit(limit).ToListAsync(cancellationToken);
        return documents.ConvertAll(MongoNotificationDocument.FromBson);
    }

    public Task<long> CountUnreadAsync(string userId, CancellationToken cancellationToken) =>
        _collection.CountDocumentsAsync(Unread(userId), options: null, cancellationToken);

    public async Task<bool> MarkReadAsync(string userId, string id, DateTimeOffset readAt, CancellationToken cancellationToken)
    {
        var update = await _collection.UpdateOneAsync(Own(userId, id) & Unread(userId), ReadUpdate(readAt), options: null, cancellationToken);
        if (update.ModifiedCount == 1)
        {
            await MarkReadSeenAsync(Own(userId, id), readAt, cancellationToken);
            return true;
        }
        return await _collection.CountDocumentsAsync(Own(userId, id), new CountOptions { Limit = 1 }, cancellationToken) > 0;
    }

    public async Task<long> MarkAllReadAsync(string userId, DateTimeOffset readAt, CancellationToken cancellationToken)
    {
        var update = await _collection.UpdateManyAsync(Unread(userId), ReadUpdate(readAt), options: null, cancellationToken);
        await MarkReadSeenAsync(Filter.Eq(MongoNotificationDocument.UserId, userId), readAt, cancellationToken);
        return update.ModifiedCount;
    }

    public async Task<bool> DeleteAsync(string userId, string id, CancellationToken cancellationToken)
    {
        if (await _collection.CountDocumentsAsync(Own(userId, id), new CountOptions { Limit = 1 }, cancellationToken) == 0)
        {
            return false;
        }
        // A client may hold this id as its resume cursor: later ids must still sort after it. The floor
        // rises before the document goes, so a writer that no longer sees the document sees the floor.
        await _floors.UpdateOneAsync(
            Filter.Eq("_id", userId),
            Builders<BsonDocument>.Update.Max(FloorField, id),
            new UpdateOptions { IsUpsert = true },
            cancellationToken);
        var result = await _collection.DeleteOneAsync(Own(userId, id), cancellationToken);
        return result.DeletedCount == 1;
    }

    public async Task<long> ApplyRetentionAsync(DateTimeOffset olderThan, int? keepNewestPerUser, int batchSize, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (keepNewestPerUser is { } keep)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(keep);
        }

        long deleted = 0;
        var old = Filter.Lt(MongoNotificationDocument.CreatedAt, new BsonDateTime(olderThan.UtcDateTime));
        while (true)
        {
            var (found, count) = await DeleteBatchAsync(_collection.Find(old).Project(IdOnly).Limit(batchSize), cancellationToken);
            deleted += count;
            if (found < batchSize)
            {
                break;
            }
        }

        if (keepNewestPerUser is not { } cap)
        {
            return deleted;
        }

        var afterUser = "";
        while (true)
        {
            var users = await _collection.Aggregate(new AggregateOptions { AllowDiskUse = true })
                .Match(Filter.Gt(MongoNotificationDocument.UserId, afterUser))
                .Group(new BsonDocument { { "_id", "$" + MongoNotificationDocument.UserId }, { "n", new BsonDocument("$sum", 1) } })
                .Match(new BsonDocument("n", new BsonDocument("$gt", cap)))
                .Sort(new BsonDocument("_id", 1))
                .Limit(RetentionUserPage)
                .ToListAsync(cancellationToken);

            foreach (var user in users.Select(u => u["_id"].AsString))
            {
                while (true)
                {
                    var beyondCap = _collection.Find(Filter.Eq(MongoNotificationDocument.UserId, user))
                        .Sort(NewestFirst).Skip(cap).Limit(batchSize).Project(IdOnly);
                    var (found, count) = await DeleteBatchAsync(beyondCap, cancellationToken);
                    deleted += count;
                    if (found < batchSize)
                    {
                        break;
                    }
                }
            }

            if (users.Count < RetentionUserPage)
            {
                return deleted;
            }
            afterUser = users[^1]["_id"].AsString;
        }
    }

    /// <summary>Deletes the documents <paramref name="ids"/> finds; returns how many it found and how many it deleted.</summary>
    private async Task<(int Found, long Deleted)> DeleteBatchAsync(IFindFluent<BsonDocument, BsonDocument> ids, CancellationToken cancellationToken)
    {
        var batch = await ids.ToListAsync(cancellationToken);
        if (batch.Count == 0)
        {
            return (0, 0);
        }
        var result = await _collection.DeleteManyAsync(Filter.In(MongoNotificationDocument.Id, batch.Select(d => d[MongoNotificationDocument.Id])), cancellationToken);
        return (batch.Count, result.DeletedCount);
    }

    public Task<long> CountUnseenAsync(string userId, CancellationToken cancellationToken) =>
        _collection.CountDocumentsAsync(
            Filter.Eq(MongoNotificationDocument.UserId, userId) & IsNull(MongoNotificationDocument.SeenAt)
                & IsNull(MongoNotificationDocument.ArchivedAt) & IsNull(MongoNotificationDocument.SnoozedUntil),
            options: null, cancellationToken);

    public async Task<bool> MarkSeenAsync(string userId, string id, DateTimeOffset seenAt, CancellationToken cancellationToken)
    {
        var update = await _collection.UpdateOneAsync(
            Own(userId, id) & IsNull(MongoNotificationDocument.SeenAt),
            Builders<BsonDocument>.Update.Set(MongoNotificationDocument.SeenAt, new BsonDateTime(seenAt.UtcDateTime)),
            options: null, cancellationToken);
        return update.ModifiedCount == 1 || await ExistsAsync(userId, id, cancellationToken);
    }

    public async Task<bool> SetArchivedAsync(string userId, string id, DateTimeOffset? archivedAt, CancellationToken cancellationToken)
    {
        var change = archivedAt is null ? Filter.Not(IsNull(MongoNotificationDocument.ArchivedAt)) : IsNull(MongoNotificationDocument.ArchivedAt);
        var update = await _collection.UpdateOneAsync(
            Own(userId, id) & change,
            Builders<BsonDocument>.Update.Set(MongoNotificationDocument.ArchivedAt, MongoNotificationDocument.Date(archivedAt)),
            options: null, cancellationToken);
        return update.ModifiedCount == 1 || await ExistsAsync(userId, id, cancellationToken);
    }

    public async Task<bool> SnoozeAsync(string userId, string id, DateTimeOffset? until, CancellationToken cancellationToken)
    {
        var update = await _collection.UpdateOneAsync(
            Own(userId, id),
            Builders<BsonDocument>.Update.Set(MongoNotificationDocument.SnoozedUntil, MongoNotificationDocument.Date(until)),
            options: null, cancellationToken);
        return update.MatchedCount == 1;
    }

    public async Task<IReadOnlyList<Notification>> WakeDueSnoozesAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        // FindOneAndUpdate is atomic per document: of several callers, one clears each snooze and gets it.
        var due = Filter.Lte(MongoNotificationDocument.SnoozedUntil, new BsonDateTime(now.UtcDateTime));
        var wake = Builders<BsonDocument>.Update
            .Set(MongoNotificationDocument.SnoozedUntil, BsonNull.Value)
            .Set(MongoNotificationDocument.Status, MongoNotificationDocument.StatusName(NotificationStatus.Unread))
            .Set(MongoNotificationDocument.ReadAt, BsonNull.Value)
            .Set(MongoNotificationDocument.SeenAt, BsonNull.Value)
            .Set(MongoNotificationDocument.PushDue, new BsonDateTime(now.UtcDateTime))
            .Unset(MongoNotificationDocument.PushLease);
        var options = new FindOneAndUpdateOptions<BsonDocument>
        {
            Sort = Builders<BsonDocument>.Sort.Ascending(MongoNotificationDocument.SnoozedUntil),
            ReturnDocument = ReturnDocument.After,
        };
        var woken = new List<Notification>();
        while (woken.Count < limit)
        {
            var document = await _collection.FindOneAndUpdateAsync(due, wake, options, cancellationToken);
            if (document is null)
            {
                break;
            }
            woken.Add(MongoNotificationDocument.FromBson(document));
        }
        return woken;
    }

    public async Task<long> BulkAsync(string userId, BulkFilter filter, BulkAction action, DateTimeOffset at, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var match = Filter.Eq(MongoNotificationDocument.UserId, userId) & action switch
        {
            BulkAction.Read => IsNull(MongoNotificationDocument.ArchivedAt) & Unread(userId),
            BulkAction.Seen => IsNull(MongoNotificationDocument.ArchivedAt) & IsNull(MongoNotificationDocument.SeenAt),
            BulkAction.Archive => IsNull(MongoNotificationDocument.ArchivedAt),
            _ => Filter.Empty,
        };
        if (filter.Type is { } type)
        {
            match &= Filter.Eq(MongoNotificationDocument.Type, type);
        }
        if (filter.Before is { } before)
        {
            match &= Filter.Lt(MongoNotificationDocument.CreatedAt, new BsonDateTime(before.UtcDateTime));
        }
        if (filter.Status is { } status)
        {
            match &= Filter.Eq(MongoNotificationDocument.Status, MongoNotificationDocument.StatusName(status));
        }
        var ids = (await _collection.Find(match).Project(IdOnly).Limit(limit).ToListAsync(cancellationToken)).Select(d => d[MongoNotificationDocument.Id]).ToList();
        if (ids.Count == 0)
        {
            return 0;
        }
        // The match is repeated so a row another caller changed meanwhile is not counted twice.
        var batch = match & Filter.In(MongoNotificationDocument.Id, ids);
        var stamp = new BsonDateTime(at.UtcDateTime);
        if (action == BulkAction.Delete)
        {
            return (await _collection.DeleteManyAsync(batch, cancellationToken)).DeletedCount;
        }
        var set = action switch
        {
            BulkAction.Read => ReadUpdate(at),
            BulkAction.Seen => Builders<BsonDocument>.Update.Set(MongoNotificationDocument.SeenAt, stamp),
            _ => Builders<BsonDocument>.Update.Set(MongoNotificationDocument.ArchivedAt, stamp),
        };
        if (action == BulkAction.Read)
        {
            // Read implies seen; a row seen before keeps its time.
            await _collection.UpdateManyAsync(batch & IsNull(MongoNotificationDocument.SeenAt),
                Builders<BsonDocument>.Update.Set(MongoNotificationDocument.SeenAt, stamp), options: null, cancellationToken);
        }
        return (await _collection.UpdateManyAsync(batch, set, options: null, cancellationToken)).ModifiedCount;
    }

    // Read implies seen: read rows not seen yet get the read time as their seen time.
    private Task MarkReadSeenAsync(FilterDefinition<BsonDocument> rows, DateTimeOffset readAt, CancellationToken cancellationToken) =>
        _collection.UpdateManyAsync(
            rows & Filter.Eq(MongoNotificationDocument.Status, MongoNotificationDocument.StatusName(NotificationStatus.Read)) & IsNull(MongoNotificationDocument.SeenAt),
            Builders<BsonDocument>.Update.Set(MongoNotificationDocument.SeenAt, new BsonDateTime(readAt.UtcDateTime)),
            options: null, cancellationToken);

    private async Task<bool> ExistsAsync(string userId, string id, CancellationToken cancellationToken) =>
        await _collection.CountDocumentsAsync(Own(userId, id), new CountOptions { Limit = 1 }, cancellationToken) > 0;

    /// <summary>The field is null or missing (documents written before it existed).</summary>
    private static FilterDefinition<BsonDocument> IsNull(string field) => Filter.Eq(field, BsonNull.Value);

    private static FilterDefinition<BsonDocument> Own(string userId, string id) =>
        Filter.Eq(MongoNotificationDocument.UserId, userId) & Filter.Eq(MongoNotificationDocument.Id, id);

    private static FilterDefinition<BsonDocument> Unread(string userId) =>
        Filter.Eq(MongoNotificationDocument.UserId, userId) & Filter.Eq(MongoNotificationDocument.Status, MongoNotificationDocument.StatusName(NotificationStatus.Unread));

    private static UpdateDefinition<BsonDocument> ReadUpdate(DateTimeOffset readAt) => Builders<BsonDocument>.Update
        .Set(MongoNotificationDocument.Status, MongoNotificationDocument.StatusName(NotificationStatus.Read))
        .Set(MongoNotificationDocument.ReadAt, new BsonDateTime(readAt.UtcDateTime));
}
