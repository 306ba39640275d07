namespace Notify.Core.Messaging;

/// <summary>
/// Every Redis key and channel name the product uses, built in one place so publishers and subscribers agree.
/// <para>
/// Names that must share a Redis Cluster slot carry the same hash tag (the part in braces, which Redis
/// Cluster alone hashes): a channel's pub/sub channel and its history are <c>…:{key}</c>, so the publish
/// script (history append and publish in one step) runs in one slot, and different channels spread over the
/// shards; the user buckets' channels are <c>…:users:{bN}</c>, spread the same way. The prefix must not
/// contain braces.
/// </para>
/// </summary>
public sealed class RedisChannels(string prefix = "notify")
{
    /// <summary>
    /// How many pub/sub channels carry the user topics. A user's publications go to the channel of their
    /// bucket (a stable hash of the user id), each message naming its user, so a Realtime instance holds this
    /// many subscriptions however many users it serves, each bucket an ordered queue (per-user order), and on
    /// a Redis Cluster the buckets spread over the shards. Every service must agree on it: it is not
    /// configurable.
    /// </summary>
    public const int UserBuckets = 256;

    /// <summary>The pub/sub channel of a topic (for a user topic: the channel of the user's bucket).</summary>
    public string For(BusTopic topic) => topic.Kind switch
    {
        BusTopicKind.User => UserBucketChannel(UserBucket(topic.Key)),
        BusTopicKind.Channel => $"{prefix}:channel:{HashTag(topic.Key)}",
        BusTopicKind.Task => $"{prefix}:task:{topic.Key}",
        BusTopicKind.Batch => $"{prefix}:batch:{topic.Key}",
        BusTopicKind.Broadcast => $"{prefix}:broadcast:{HashTag(topic.Key)}",
        _ => throw new ArgumentOutOfRangeException(nameof(topic)),
    };

    /// <summary>
    /// Whether a topic's publications go over sharded pub/sub on a Redis Cluster (<c>SPUBLISH</c> to the
    /// shard that owns its channel): users and channels, the topics with the most traffic. Task and batch
    /// progress is published by the task queue's scripts in the queue's slot, and broadcasts reach everyone,
    /// so those stay on classic pub/sub.
    /// </summary>
    public static bool IsSharded(BusTopic topic) => topic.Kind is BusTopicKind.User or BusTopicKind.Channel;

    /// <summary>The channel of every user bucket, <c>0</c> to <see cref="UserBuckets"/> − 1.</summary>
    public IEnumerable<string> EveryUserBucket() =>
        Enumerable.Range(0, UserBuckets).Select(UserBucketChannel);

    private string UserBucketChannel(int bucket) => $"{prefix}:users:{{b{bucket}}}";

    /// <summary>The bucket of <paramref name="userKey"/>: FNV-1a of its UTF-16 code units, the same in every process and version.</summary>
    public static int UserBucket(string userKey) => (int)(Fnv1a(userKey) % UserBuckets);

    /// <summary>The Redis stream that keeps a channel's bounded history (<c>Channels:HistorySize</c>); same slot as the topic's channel.</summary>
    public string History(BusTopic topic) => $"{prefix}:history:{For(topic)}";

    /// <summary>The lock one process holds while it publishes what waits in the notification outbox.</summary>
    public string OutboxLock => $"{prefix}:outbox:drain";

    /// <summary>The key prefix all other components build on.</summary>
    public string Prefix => prefix;

    /// <summary>
    /// <c>{key}</c>: a Redis Cluster hash tag of <paramref name="key"/>. A key that would not make a tag of its own
    /// (empty, or holding a brace) is tagged by a hash of it instead, followed by the key itself so names stay distinct.
    /// </summary>
    public static string HashTag(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length > 0 && key.AsSpan().IndexOfAny('{', '}') < 0)
        {
            return "{" + key + "}";
        }
        return "{#" + Fnv1a(key).ToString("x8", System.Globalization.CultureInfo.InvariantCulture) + "}:" + key;
    }

    // FNV-1a over the UTF-16 code units: stable across processes and versions, unlike string.GetHashCode.
    private static uint Fnv1a(string key)
    {
        var hash = 2166136261u;
        foreach (var c in key)
        {
            hash = (hash ^ c) * 16777619u;
        }
        return hash;
    }
}
