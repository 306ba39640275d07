using MongoDB.Bson;
using MongoDB.Driver;
using Notify.Core.Settings;

namespace Notify.Core.Storage.Mongo;

/// <summary><see cref="ISettingsStore"/> as one document (<c>_id: "runtime"</c>) of the <c>settings</c> collection.</summary>
public sealed class MongoSettingsStore : ISettingsStore
{
    /// <summary>The collection name.</summary>
    public const string CollectionName = "settings";

    private const string DocumentId = "runtime";
    private static readonly FilterDefinitionBuilder<BsonDocument> Filter = Builders<BsonDocument>.Filter;
    private readonly IMongoCollection<BsonDocument> _collection;

    /// <summary>A store on the <c>settings</c> collection of <paramref name="database"/>.</summary>
    public MongoSettingsStore(IMongoDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        _collection = database.GetCollection<BsonDocument>(CollectionName);
    }

    // The collection needs no index beyond _id; MongoDB creates it on the first write.
    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<StoredSettings> GetAsync(CancellationToken cancellationToken)
    {
        var document = await _collection.Find(Filter.Eq("_id", DocumentId)).FirstOrDefaultAsync(cancellationToken);
        if (document is null)
        {
            return StoredSettings.Empty;
        }
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var element in document["values"].AsBsonDocument)
        {
            values[element.Name] = element.Value.AsString;
        }
        return new StoredSettings(values, document["version"].ToInt64(), new DateTimeOffset(document["updated_at"].ToUniversalTime()));
    }

    public async Task<StoredSettings?> TryPutAsync(IReadOnlyDictionary<string, string> values, long expectedVersion, DateTimeOffset updatedAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfNegative(expectedVersion);
        var bsonValues = new BsonDocument(values.Select(pair => new BsonElement(pair.Key, pair.Value)));
        var stamp = new BsonDateTime(updatedAt.UtcDateTime);
        if (!await MongoVersionedDocument.TryPutAsync(_collection, DocumentId, "values", bsonValues, expectedVersion, stamp, cancellationToken))
        {
            return null;
        }
        return new StoredSettings(new Dictionary<string, string>(values, StringComparer.Ordinal), expectedVersion + 1, new DateTimeOffset(stamp.ToUniversalTime()));
    }
}
