using MongoDB.Bson;
using MongoDB.Driver;
using Notify.Core.Notifications;
using Notify.Core.Push;

namespace Notify.Core.Storage.Mongo;

/// <summary>The push outbox on the notifications collection: <c>push_due</c> (waiting since) and <c>push_lease</c> (claimed until).</summary>
public sealed partial class MongoNotificationStore : IPushOutbox
{
    public async Task<PushClaim> ClaimAsync(DateTimeOffset now, DateTimeOffset oldest, DateTimeOffset leaseUntil, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var expired = await _collection.UpdateManyAsync(
            Filter.Lt(MongoNotificationDocument.PushDue, new BsonDateTime(oldest.UtcDateTime)),
            Builders<BsonDocument>.Update.Unset(MongoNotificationDocument.PushDue).Unset(MongoNotificationDocument.PushLease),
            options: null, cancellationToken);
        // FindOneAndUpdate is atomic per document: of several claimers, one leases each waiting notification.
        var free = Filter.Gte(MongoNotificationDocument.PushDue, new BsonDateTime(oldest.UtcDateTime))
                   & (Filter.Exists(MongoNotificationDocument.PushLease, exists: false)
                      | Filter.Lte(MongoNotificationDocument.PushLease, new BsonDateTime(now.UtcDateTime)));
        var lease = Builders<BsonDocument>.Update.Set(MongoNotificationDocument.PushLease, new BsonDateTime(leaseUntil.UtcDateTime));
        var options = new FindOneAndUpdateOptions<BsonDocument>
        {
            Sort = Builders<BsonDocument>.Sort.Ascending(MongoNotificationDocument.PushDue),
            ReturnDocument = ReturnDocument.After,
        };
        var claimed = new List<Notification>();
        while (claimed.Count < limit)
        {
            var document = await _collection.FindOneAndUpdateAsync(free, lease, options, cancellationToken);
            if (document is null)
            {
                break;
            }
            claimed.Add(MongoNotificationDocument.FromBson(document));
        }
        return new PushClaim(claimed, expired.ModifiedCount);
    }

    public async Task CompleteAsync(IReadOnlyCollection<NotificationKey> notifications, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(notifications);
        if (notifications.Count == 0)
        {
            return;
        }
        var any = Filter.Or(notifications.Select(n => Filter.Eq(MongoNotificationDocument.UserId, n.UserId) & Filter.Eq(MongoNotificationDocument.Id, n.Id)));
        await _collection.UpdateManyAsync(
            any,
            Builders<BsonDocument>.Update.Unset(MongoNotificationDocument.PushDue).Unset(MongoNotificationDocument.PushLease),
            options: null, cancellationToken);
    }
}
