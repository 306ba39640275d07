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
public sealed class MongoNotificationStore : INotificationStore
{
    /// <summary>The collection name.</summary>
    public const string CollectionName = "notifications";

    private static readonly FilterDefinitionBuilder<BsonDocument> Filter = Builders<BsonDocument>.Filter;
    private static readonly SortDefinition<BsonDocument> NewestFirst = Builders<BsonDocument>.Sort.Descending(MongoNotificationDocument.Id);
    private static readonly SortDefinition<BsonDocument> OldestFirst = Builders<BsonDocument>.Sort.Ascending(MongoNotificationDocument.Id);
    private static readonly ProjectionDefinition<BsonDocument> IdOnly = Builders<BsonDocument>.Projection.Include(MongoNotificationDocument.Id);

    /// <summary>Page size of the user scan of per-user retention.</summary>
    private const int RetentionUserPage = 500;

    private readonly IMongoCollection<BsonDocument> _collection;

    /// <summary>A store on the <c>notifications</c> collection of <paramref name="database"/>.</summary>
    public MongoNotificationStore(IMongoDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        _collection = database.GetCollection<BsonDocument>(CollectionName);
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
                keys.Ascending(MongoNotificationDocument.UserId).Ascending(MongoNotificationDocument.IdempotencyCaller).Ascending(MongoNotificationDocument.IdempotencyKey),
                new CreateIndexOptions<BsonDocument>
                {
                    Name = "user_id_idempotency_caller_key",
                    Unique = true,
                    PartialFilterExpression = Filter.Exists(MongoNotificationDocument.IdempotencyKey),
                }),
        ], cancellationToken);
    }

    public async Task<CreateResult> CreateAsync(Notification notification, IdempotencyKey? idempotency, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(notification);
        var document = MongoNotificationDocument.ToBson(notification, idempotency);
        // Two attempts: the first row may be deleted between our duplicate-key error and the lookup.
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await _collection.InsertOneAsync(document, options: null, cancellationToken);
                return new CreateResult(StoredNotification.AsStored(notification), Created: true);
            }
            catch (MongoWriteException ex) when (idempotency is not null && ex.WriteError?.Category == ServerErrorCategory.DuplicateKey)
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
                if (attempt > 0)
                {
                    throw;
                }
            }
        }
    }

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
            return true;
        }
        return await _collection.CountDocumentsAsync(Own(userId, id), new CountOptions { Limit = 1 }, cancellationToken) > 0;
    }

    public async Task<long> MarkAllReadAsync(string userId, DateTimeOffset readAt, CancellationToken cancellationToken)
    {
        var update = await _collection.UpdateManyAsync(Unread(userId), ReadUpdate(readAt), options: null, cancellationToken);
        return update.ModifiedCount;
    }

    public async Task<bool> DeleteAsync(string userId, string id, CancellationToken cancellationToken)
    {
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

    private static FilterDefinition<BsonDocument> Own(string userId, string id) =>
        Filter.Eq(MongoNotificationDocument.UserId, userId) & Filter.Eq(MongoNotificationDocument.Id, id);

    private static FilterDefinition<BsonDocument> Unread(string userId) =>
        Filter.Eq(MongoNotificationDocument.UserId, userId) & Filter.Eq(MongoNotificationDocument.Status, MongoNotificationDocument.StatusName(NotificationStatus.Unread));

    private static UpdateDefinition<BsonDocument> ReadUpdate(DateTimeOffset readAt) => Builders<BsonDocument>.Update
        .Set(MongoNotificationDocument.Status, MongoNotificationDocument.StatusName(NotificationStatus.Read))
        .Set(MongoNotificationDocument.ReadAt, new BsonDateTime(readAt.UtcDateTime));
}
