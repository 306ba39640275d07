using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Notify.Core.Json;
using StackExchange.Redis;

namespace Notify.Core.Messaging;

/// <summary>
/// <see cref="IMessageBus"/> on Redis pub/sub, with channel history in capped Redis streams. A history
/// entry stores the frame as the bytes before and after its own stream id, so replay rebuilds the very
/// frame that was published without serializing again.
/// <para>
/// Trace context crosses Redis with the frame: while a trace is recorded, a published message is the W3C
/// <c>traceparent</c> and a newline, then the frame. A subscriber strips it (frames are JSON objects, so a
/// message that does not start with <c>{</c> carries one) and records its delivery as a consumer span of
/// the publisher's trace, so one trace shows a create from the Api through Redis to every Realtime instance.
/// </para>
/// <para>
/// User topics share <see cref="RedisChannels.UserBuckets"/> channels: a user's message goes to their bucket's
/// channel with an <c>@user</c> line before it, so a Realtime instance subscribes to the buckets once instead of
/// to every connected user (<see cref="SubscribeAllAsync"/>), and each bucket keeps its users' order.
/// </para>
/// <para>
/// On a Redis Cluster, user and channel topics (<see cref="RedisChannels.IsSharded"/>) use sharded pub/sub
/// (<c>SPUBLISH</c>/<c>SSUBSCRIBE</c>): a message goes only to the shard that owns its channel's slot instead of
/// to every node. On a single node they stay on classic pub/sub, which pattern subscriptions (the Worker's
/// Web Push) also see.
/// </para>
/// </summary>
public sealed class RedisMessageBus(
    IConnectionMultiplexer redis,
    RedisChannels channels,
    IOptionsMonitor<ChannelOptions> options,
    TimeProvider time) : IMessageBus
{
    // XADD with an exact cap, trim by age, refresh the key's TTL, publish: one atomic step, so the
    // history's order is the publish order and a subscriber never sees a frame history lacks.
    // ARGV[6] is PUBLISH or SPUBLISH; the channel is KEYS[2] so a cluster checks it is in the history's slot.
    private const string PublishScript = """
        local id = redis.call('XADD', KEYS[1], 'MAXLEN', '=', ARGV[1], '*', 'p', ARGV[2], 's', ARGV[3])
        local t = redis.call('TIME')
        local minMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(ARGV[4])
        if minMs > 0 then redis.call('XTRIM', KEYS[1], 'MINID', tostring(minMs)) end
        redis.call('PEXPIRE', KEYS[1], ARGV[4])
        redis.call(ARGV[6], KEYS[2], ARGV[5] .. ARGV[2] .. id .. ARGV[3])
        return id
        """;

    private static readonly ActivitySource Source = new("Notify.Messaging");

    // Known once a connection to a server exists: whether that server is a cluster node.
    private bool? _cluster;

    /// <summary>
    /// Every publication, subscription and history read goes to a primary, never to a replica: Redis accepts
    /// PUBLISH on a replica but delivers it only to that replica's own subscribers, so while the primary is
    /// away (a failover) a publication that fell back to a replica would be acknowledged and reach nobody;
    /// a subscription or a history read on a replica can lag behind what the primary acknowledged. Without a
    /// primary the operation fails and the caller's recovery takes over (the outbox publishes again, the
    /// subscription is made again once a primary is known).
    /// </summary>
    private const CommandFlags Primary = CommandFlags.DemandMaster;

    private static MessageBusUnavailableException Unavailable(Exception inner) => new("The message bus is unavailable: " + inner.Message, inner);

    public Task PublishAsync(BusTopic topic, ReadOnlyMemory<byte> frame, CancellationToken cancellationToken) =>
        RedisFaults.Translate(PublishCoreAsync(topic, frame, cancellationToken), Unavailable);

    private async Task PublishCoreAsync(BusTopic topic, ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var activity = StartPublish(topic);
        var message = Message(topic.Kind == BusTopicKind.User ? topic.Key : null, TraceParent(activity), frame);
        await redis.GetSubscriber().PublishAsync(ChannelOf(topic), message, Primary);
    }

    public Task<ChannelPublication> PublishToChannelAsync(BusTopic topic, string channelName, JsonElement payload, CancellationToken cancellationToken) =>
        RedisFaults.Translate(PublishToChannelCoreAsync(topic, channelName, payload, cancellationToken), Unavailable);

    private async Task<ChannelPublication> PublishToChannelCoreAsync(BusTopic topic, string channelName, JsonElement payload, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var createdAt = time.GetUtcNow();
        var prefix = "{\"type\":\"message\",\"data\":{\"channel\":" + JsonSerializer.Serialize(channelName, NotifyJson.Options) + ",\"id\":\"";
        var suffix = "\",\"payload\":" + payload.GetRawText() + ",\"created_at\":" + JsonSerializer.Serialize(createdAt, NotifyJson.Options) + "}}";
        var current = options.CurrentValue;
        var ttlMs = (long)current.HistoryTtlSeconds * 1000;
        using var activity = StartPublish(topic);

        var result = await redis.GetDatabase().ScriptEvaluateAsync(
            PublishScript,
            [channels.History(topic), channels.For(topic)],
            [current.HistorySize, prefix, suffix, ttlMs, TraceParent(activity) is { } traceParent ? traceParent + "\n" : "",
                ChannelOf(topic).IsSharded ? "SPUBLISH" : "PUBLISH"], Primary);

        var id = (string)result!;
        return new ChannelPublication(id, createdAt, Encoding.UTF8.GetBytes(prefix + id + suffix));
    }

    public Task<ChannelHistory> ReadHistoryAsync(BusTopic topic, string since, int limit, CancellationToken cancellationToken) =>
        RedisFaults.Translate(ReadHistoryCoreAsync(topic, since, limit, cancellationToken), Unavailable);

    private async Task<ChannelHistory> ReadHistoryCoreAsync(BusTopic topic, string since, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        if (!ChannelOffset.IsValid(since))
        {
            throw new ArgumentException($"'{since}' is not a channel offset.", nameof(since));
        }
        cancellationToken.ThrowIfCancellationRequested();
        var db = redis.GetDatabase();
        // A RedisKey (not a string) so a cluster routes XINFO to the slot's owner.
        RedisKey key = channels.History(topic);

        // Exclusive start: "(" + since. One entry more than asked tells the caller that the limit cut the replay.
        var entries = await db.StreamRangeAsync(key, "(" + since, "+", count: limit, flags: Primary);
        var info = await db.ExecuteAsync("XINFO", ["STREAM", key], Primary).ContinueWith(
            t => t.IsCompletedSuccessfully ? t.Result : null, TaskScheduler.Default);

        var truncated = false;
        if (info is not null && info.Resp2Type == ResultType.Array)
        {
            var fields = (RedisResult[])info!;
            long length = 0, added = 0;
            string? first = null;
            for (var i = 0; i + 1 < fields.Length; i += 2)
            {
                switch ((string?)fields[i])
                {
                    case "length": length = (long)fields[i + 1]; break;
                    case "entries-added": added = (long)fields[i + 1]; break;
                    case "first-entry":
                        var entry = (RedisResult[]?)fields[i + 1];
                        first = entry is { Length: > 0 } ? (string?)entry[0] : null;
                        break;
                }
            }
            truncated = added > length && first is not null && ChannelOffset.Compare(since, first) < 0;
        }

        var list = new List<ChannelPublication>(entries.Length);
        foreach (var entry in entries)
        {
            var prefix = (string?)entry["p"] ?? "";
            var suffix = (string?)entry["s"] ?? "";
            var id = (string)entry.Id!;
            list.Add(new ChannelPublication(id, DateTimeOffset.FromUnixTimeMilliseconds(ChannelOffset.MillisecondsOf(id)), Encoding.UTF8.GetBytes(prefix + id + suffix)));
        }
        return new ChannelHistory(list, truncated);
    }

    public Task<string> GetHistoryEndAsync(BusTopic topic, CancellationToken cancellationToken) =>
        RedisFaults.Translate(GetHistoryEndCoreAsync(topic, cancellationToken), Unavailable);

    private async Task<string> GetHistoryEndCoreAsync(BusTopic topic, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var newest = await redis.GetDatabase().StreamRangeAsync(channels.History(topic), "-", "+", count: 1, messageOrder: Order.Descending, flags: Primary);
        return newest.Length > 0 ? (string)newest[0].Id! : "0-0";
    }

    public Task<IAsyncDisposable> SubscribeAsync(BusTopic topic, Action<BusTopic, ReadOnlyMemory<byte>> handler, CancellationToken cancellationToken) =>
        RedisFaults.Translate(SubscribeCoreAsync(topic, handler, cancellationToken), Unavailable);

    private async Task<IAsyncDisposable> SubscribeCoreAsync(BusTopic topic, Action<BusTopic, ReadOnlyMemory<byte>> handler, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        // A message queue per subscription (not the concurrent callback API): its handler runs for one
        // message at a time in publish order, so a topic's frames reach connections in the order sent.
        var queue = await redis.GetSubscriber().SubscribeAsync(ChannelOf(topic), Primary);
        queue.OnMessage(message => Deliver(topic, (byte[])message.Message!, handler));
        return new Subscription([queue]);
    }

    public Task<IAsyncDisposable> SubscribeAllAsync(BusTopicKind kind, Action<BusTopic, ReadOnlyMemory<byte>> handler, CancellationToken cancellationToken) =>
        RedisFaults.Translate(SubscribeAllCoreAsync(kind, handler, cancellationToken), Unavailable);

    private async Task<IAsyncDisposable> SubscribeAllCoreAsync(BusTopicKind kind, Action<BusTopic, ReadOnlyMemory<byte>> handler, CancellationToken cancellationToken)
    {
        if (kind != BusTopicKind.User)
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "Only user topics are carried by shared channels.");
        }
        cancellationToken.ThrowIfCancellationRequested();
        // One ordered queue per user bucket (not per user): a user's messages in the order Redis sent them;
        // different buckets' handlers may run at the same time.
        var subscriber = redis.GetSubscriber();
        var queues = new List<ChannelMessageQueue>(RedisChannels.UserBuckets);
        try
        {
            foreach (var bucket in channels.EveryUserBucket())
            {
                var queue = await subscriber.SubscribeAsync(ChannelNamed(bucket, sharded: true), Primary);
                queues.Add(queue);
                queue.OnMessage(message => Deliver(null, (byte[])message.Message!, handler));
            }
        }
        catch
        {
            await new Subscription([.. queues]).DisposeAsync();
            throw;
        }
        return new Subscription([.. queues]);
    }

    /// <summary>The Redis channel of <paramref name="topic"/>: sharded on a cluster for the topics that spread over shards.</summary>
    private RedisChannel ChannelOf(BusTopic topic) => ChannelNamed(channels.For(topic), RedisChannels.IsSharded(topic));

    private RedisChannel ChannelNamed(string name, bool sharded) =>
        sharded && IsCluster() ? RedisChannel.Sharded(name) : RedisChannel.Literal(name);

    private bool IsCluster()
    {
        // Remembered once known; while nothing is connected yet, asked again next time.
        _cluster ??= redis.IsCluster();
        return _cluster ?? false;
    }

    /// <summary>
    /// The frame of a raw pub/sub message published through this bus, without the user line and trace context
    /// that may precede it: for readers that subscribe to the Redis channels themselves.
    /// </summary>
    public static ReadOnlyMemory<byte> FrameOf(byte[] message) => Parse(message).Frame;

    /// <summary>The user a raw pub/sub message on a user bucket's channel is for; null for other messages.</summary>
    public static string? UserOf(byte[] message) => Parse(message).User;

    // A message is [@user\n][traceparent\n]frame: frames are JSON objects, so a line before the frame starts
    // with anything but '{'; user ids hold no whitespace, and a traceparent is at most 55 characters.
    private static (string? User, string? TraceParent, ReadOnlyMemory<byte> Frame) Parse(byte[] message)
    {
        ArgumentNullException.ThrowIfNull(message);
        string? user = null;
        var at = 0;
        if (message.Length > 0 && message[0] == (byte)'@')
        {
            var newline = Array.IndexOf(message, (byte)'\n', 0, Math.Min(message.Length, 1024));
            if (newline < 0)
            {
                return (null, null, message);
            }
            user = Encoding.UTF8.GetString(message, 1, newline - 1);
            at = newline + 1;
        }
        if (at < message.Length && message[at] != (byte)'{')
        {
            var newline = Array.IndexOf(message, (byte)'\n', at, Math.Min(message.Length - at, 128));
            if (newline >= 0)
            {
                return (user, Encoding.ASCII.GetString(message, at, newline - at), message.AsMemory(newline + 1));
            }
        }
        return (user, null, message.AsMemory(at));
    }

    /// <summary>
    /// Hands one message to <paramref name="handler"/>: to <paramref name="topic"/>, or when null (a shared user
    /// bucket) to the user topic the message names; a user topic's own subscription skips the bucket's other users.
    /// </summary>
    private static void Deliver(BusTopic? topic, byte[] message, Action<BusTopic, ReadOnlyMemory<byte>> handler)
    {
        var (user, traceParent, frame) = Parse(message);
        if (topic is null)
        {
            if (user is null)
            {
                return;
            }
            topic = BusTopic.User(user);
        }
        else if (topic.Value.Kind == BusTopicKind.User && user != topic.Value.Key)
        {
            return;
        }
        if (traceParent is null)
        {
            handler(topic.Value, frame);
            return;
        }
        ActivityContext.TryParse(traceParent, null, out var parent);
        using var activity = Source.StartActivity("redis deliver", ActivityKind.Consumer, parent);
        activity?.SetTag("messaging.system", "redis");
        activity?.SetTag("messaging.operation.type", "process");
        handler(topic.Value, frame);
    }

    private static Activity? StartPublish(BusTopic topic)
    {
        var activity = Source.StartActivity("redis publish", ActivityKind.Producer);
        activity?.SetTag("messaging.system", "redis");
        activity?.SetTag("messaging.operation.type", "publish");
        activity?.SetTag("notify.topic.kind", topic.Kind.ToString());
        return activity;
    }

    /// <summary>The W3C traceparent of <paramref name="activity"/>, or null when no trace is recorded.</summary>
    private static string? TraceParent(Activity? activity) =>
        activity is { IdFormat: ActivityIdFormat.W3C, Recorded: true } ? activity.Id : null;

    /// <summary>The published message: <c>@user</c> and a newline for a user topic, the traceparent and a newline while a trace is recorded, then the frame.</summary>
    private static ReadOnlyMemory<byte> Message(string? user, string? traceParent, ReadOnlyMemory<byte> frame)
    {
        if (user is null && traceParent is null)
        {
            return frame;
        }
        var userLength = user is null ? 0 : 1 + Encoding.UTF8.GetByteCount(user) + 1;
        var traceLength = traceParent is null ? 0 : traceParent.Length + 1;
        var message = new byte[userLength + traceLength + frame.Length];
        var span = message.AsSpan();
        if (user is not null)
        {
            span[0] = (byte)'@';
            var written = Encoding.UTF8.GetBytes(user, span[1..]);
            span[1 + written] = (byte)'\n';
            span = span[userLength..];
        }
        if (traceParent is not null)
        {
            var written = Encoding.ASCII.GetBytes(traceParent, span);
            span[written] = (byte)'\n';
            span = span[traceLength..];
        }
        frame.Span.CopyTo(span);
        return message;
    }

    private sealed class Subscription(ChannelMessageQueue[] queues) : IAsyncDisposable
    {
        private int _disposed;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                foreach (var queue in queues)
                {
                    await queue.UnsubscribeAsync();
                }
            }
        }
    }
}
