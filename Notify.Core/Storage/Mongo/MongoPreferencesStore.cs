using MongoDB.Bson;
using MongoDB.Driver;
using Notify.Core.Preferences;

namespace Notify.Core.Storage.Mongo;

/// <summary><see cref="IPreferencesStore"/> as documents of the <c>preferences</c> collection (<c>_id</c> the owner, the document as JSON text).</summary>
public sealed class MongoPreferencesStore : IPreferencesStore
{
    /// <summary>The collection name.</summary>
    public const string CollectionName = "preferences";

    private static readonly FilterDefinitionBuilder<BsonDocument> Filter = Builders<BsonDocument>.Filter;
    private readonly IMongoCollection<BsonDocument> _collection;

    /// <summary>A store on the <c>preferences</c> collection of <paramref name="database"/>.</summary>
    public MongoPreferencesStore(IMongoDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        _collection = database.GetCollection<BsonDocument>(CollectionName);
    }

    // The collection needs no index beyond _id; MongoDB creates it on the first write.
    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<StoredPreferences> GetAsync(string owner, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(owner);
        var document = await _collection.Find(Filter.Eq("_id", owner)).FirstOrDefaultAsync(cancellationToken);
        return document is null
            ? StoredPreferences.Empty
            : new StoredPreferences(
                PreferenceResolver.Deserialize(document["preferences"].AsString),
                document["version"].ToInt64(),
                new DateTimeOffset(document["updated_at"].ToUniversalTime()));
    }

    public async Task<StoredPreferences?> TryPutAsync(string owner, NotificationPreferences preferences, long expectedVersion, DateTimeOffset updatedAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(preferences);
        ArgumentOutOfRangeException.ThrowIfNegative(expectedVersion);
        var json = PreferenceResolver.Serialize(preferences);
        var stamp = new BsonDateTime(updatedAt.UtcDateTime);
        if (!await MongoVersionedDocument.TryPutAsync(_collection, owner, "preferences", new BsonString(json), expectedVersion, stamp, cancellationToken))
        {
            return null;
        }
        return new StoredPreferences(PreferenceResolver.Deserialize(json), expectedVersion + 1, new DateTimeOffset(stamp.ToUniversalTime()));
    }
}
