using MongoDB.Bson;
using MongoDB.Driver;

namespace Notify.Core.Storage.Mongo;

/// <summary>
/// Compare-and-set of a versioned document (<c>_id</c>, <c>version</c>, <c>updated_at</c> and one value
/// field), shared by the runtime settings and the preferences.
/// </summary>
internal static class MongoVersionedDocument
{
    private static readonly FilterDefinitionBuilder<BsonDocument> Filter = Builders<BsonDocument>.Filter;

    /// <summary>
    /// Stores <paramref name="value"/> as <paramref name="field"/> of document <paramref name="id"/> when its
    /// version still equals <paramref name="expectedVersion"/> (0: no document yet); false when another write came first.
    /// </summary>
    public static async Task<bool> TryPutAsync(
        IMongoCollection<BsonDocument> collection, string id, string field, BsonValue value, long expectedVersion, BsonDateTime stamp, CancellationToken cancellationToken)
    {
        if (expectedVersion == 0)
        {
            try
            {
                await collection.InsertOneAsync(
                    new BsonDocument { { "_id", id }, { "version", 1L }, { "updated_at", stamp }, { field, value } },
                    options: null,
                    cancellationToken);
                return true;
            }
            catch (MongoWriteException ex) when (ex.WriteError?.Category == ServerErrorCategory.DuplicateKey)
            {
                return false;
            }
        }
        var result = await collection.UpdateOneAsync(
            Filter.Eq("_id", id) & Filter.Eq("version", expectedVersion),
            Builders<BsonDocument>.Update.Set(field, value).Set("updated_at", stamp).Inc("version", 1L),
            options: null,
            cancellationToken);
        return result.ModifiedCount == 1;
    }
}
