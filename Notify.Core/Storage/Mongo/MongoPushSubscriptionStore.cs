using MongoDB.Bson;
using MongoDB.Driver;
using Notify.Core.Push;

namespace Notify.Core.Storage.Mongo;

/// <summary><see cref="IPushSubscriptionStore"/> as the <c>push_subscriptions</c> collection (<c>_id</c> = the endpoint's id).</summary>
public sealed class MongoPushSubscriptionStore : IPushSubscriptionStore
{
    /// <summary>The collection name.</summary>
    public const string CollectionName = "push_subscriptions";

    private static readonly FilterDefinitionBuilder<BsonDocument> Filter = Builders<BsonDocument>.Filter;
    private readonly IMongoCollection<BsonDocument> _collection;

    /// <summary>A store on the <c>push_subscriptions</c> collection of <paramref name="database"/>.</summary>
    public MongoPushSubscriptionStore(IMongoDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        _collection = database.GetCollection<BsonDocument>(CollectionName);
    }

    public Task InitializeAsync(CancellationToken cancellationToken) =>
        _collection.Indexes.CreateOneAsync(
            new CreateIndexModel<BsonDocument>(Builders<BsonDocument>.IndexKeys.Ascending("user_id").Ascending("created_at")),
            cancellationToken: cancellationToken);

    public async Task<PushSaveOutcome> SaveAsync(PushSubscription subscription, int maxPerUser, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        var byId = Filter.Eq("_id", subscription.Id);
        var update = Builders<BsonDocument>.Update
            .Set("user_id", subscription.UserId)
            .Set("p256dh", subscription.P256dh)
            .Set("auth", subscription.Auth);
        if ((await _collection.UpdateOneAsync(byId, update, cancellationToken: cancellationToken)).MatchedCount == 1)
        {
            return PushSaveOutcome.Updated;
        }
        // Two devices of one user registering at the same instant may both pass the count: the limit can be
        // exceeded by the number of concurrent first registrations, never grow without bound.
        if (await _collection.CountDocumentsAsync(Filter.Eq("user_id", subscription.UserId), cancellationToken: cancellationToken) >= maxPerUser)
        {
            return PushSaveOutcome.LimitReached;
        }
        try
        {
            await _collection.InsertOneAsync(
                new BsonDocument
                {
                    { "_id", subscription.Id },
                    { "user_id", subscription.UserId },
                    { "endpoint", subscription.Endpoint },
                    { "p256dh", subscription.P256dh },
                    { "auth", subscription.Auth },
                    { "created_at", new BsonDateTime(subscription.CreatedAt.UtcDateTime) },
                },
                options: null,
                cancellationToken);
            return PushSaveOutcome.Created;
        }
        catch (MongoWriteException ex) when (ex.WriteError?.Category == ServerErrorCategory.DuplicateKey)
        {
            await _collection.UpdateOneAsync(byId, update, cancellationToken: cancellationToken);
            return PushSaveOutcome.Updated;
        }
    }

    public async Task<IReadOnlyList<PushSubscription>> ListAsync(string userId, CancellationToken cancellationToken)
    {
        var documents = await _collection.Find(Filter.Eq("user_id", userId))
            .Sort(Builders<BsonDocument>.Sort.Ascending("created_at").Ascending("_id"))
            .ToListAsync(cancellationToken);
        return documents.Select(d => new PushSubscription
        {
            Id = d["_id"].AsString,
            UserId = d["user_id"].AsString,
            Endpoint = d["endpoint"].AsString,
            P256dh = d["p256dh"].AsString,
            Auth = d["auth"].AsString,
            CreatedAt = new DateTimeOffset(d["created_at"].ToUniversalTime()),
        }).ToList();
    }

    public async Task<bool> DeleteAsync(string userId, string id, CancellationToken cancellationToken) =>
        (await _collection.DeleteOneAsync(Filter.Eq("_id", id) & Filter.Eq("user_id", userId), cancellationToken)).DeletedCount == 1;

    public async Task<bool> DeleteByEndpointAsync(string endpoint, CancellationToken cancellationToken) =>
        (await _collection.DeleteOneAsync(Filter.Eq("_id", PushSubscription.IdOf(endpoint)), cancellationToken)).DeletedCount == 1;
}
