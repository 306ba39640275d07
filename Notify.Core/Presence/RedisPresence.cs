using System.Text.Json;
using Notify.Core.Json;
using Notify.Core.Messaging;
using StackExchange.Redis;

namespace Notify.Core.Presence;

/// <summary>
/// <see cref="IPresence"/> on Redis: one string key per instance holding its JSON snapshot with a
/// PX expiry, and a sorted set of instance ids scored by expiry time so readers find live snapshots
/// without scanning keys. An expired id left in the set is ignored and pruned by readers.
/// <para>
/// On a Redis Cluster the snapshots spread over the shards (each instance key carries its own hash tag)
/// while the index lives in one slot; so writes are two commands, not a transaction: the snapshot first and
/// then the index entry (removal in the opposite order), which a reader never sees half-done because it
/// skips an indexed id without a snapshot. The list reads the snapshots with one GET each, pipelined.
/// </para>
/// </summary>
public sealed class RedisPresence(IConnectionMultiplexer redis, RedisChannels channels, TimeProvider time) : IPresence
{
    private string IndexKey => $"{channels.Prefix}:presence:instances";

    private string InstanceKey(string id) => $"{channels.Prefix}:presence:instance:{RedisChannels.HashTag(id)}";

    private static PresenceUnavailableException Unavailable(Exception inner) => new("Presence is unavailable: " + inner.Message, inner);

    public Task PublishAsync(InstancePresence snapshot, TimeSpan ttl, CancellationToken cancellationToken) =>
        RedisFaults.Translate(PublishCoreAsync(snapshot, ttl, cancellationToken), Unavailable);

    private async Task PublishCoreAsync(InstancePresence snapshot, TimeSpan ttl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        cancellationToken.ThrowIfCancellationRequested();
        var expiresAt = time.GetUtcNow() + ttl;
        var json = JsonSerializer.SerializeToUtf8Bytes(snapshot, NotifyJson.Options);
        var db = redis.GetDatabase();
        await db.StringSetAsync(InstanceKey(snapshot.Id), json, ttl).WaitAsync(cancellationToken);
        await db.SortedSetAddAsync(IndexKey, snapshot.Id, expiresAt.ToUnixTimeMilliseconds()).WaitAsync(cancellationToken);
    }

    public Task RemoveAsync(string instanceId, CancellationToken cancellationToken) =>
        RedisFaults.Translate(RemoveCoreAsync(instanceId, cancellationToken), Unavailable);

    private async Task RemoveCoreAsync(string instanceId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var db = redis.GetDatabase();
        await db.SortedSetRemoveAsync(IndexKey, instanceId).WaitAsync(cancellationToken);
        await db.KeyDeleteAsync(InstanceKey(instanceId)).WaitAsync(cancellationToken);
    }

    public Task<IReadOnlyList<InstancePresence>> ListAsync(CancellationToken cancellationToken) =>
        RedisFaults.Translate(ListCoreAsync(cancellationToken), Unavailable);

    private async Task<IReadOnlyList<InstancePresence>> ListCoreAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var db = redis.GetDatabase();
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await db.SortedSetRemoveRangeByScoreAsync(IndexKey, double.NegativeInfinity, now, Exclude.Stop).WaitAsync(cancellationToken);
        var ids = await db.SortedSetRangeByScoreAsync(IndexKey, now, double.PositiveInfinity, Exclude.Start).WaitAsync(cancellationToken);
        if (ids.Length == 0)
        {
            return [];
        }
        var values = await Task.WhenAll(ids.Select(id => db.StringGetAsync(InstanceKey(id!)))).WaitAsync(cancellationToken);
        var list = new List<InstancePresence>(values.Length);
        foreach (var value in values)
        {
            if (value.HasValue && JsonSerializer.Deserialize<InstancePresence>((byte[])value!, NotifyJson.Options) is { } snapshot)
            {
                list.Add(snapshot);
            }
        }
        return list;
    }
}
