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
/// </summary>
public sealed class RedisMessageBus(
    IConnectionMultiplexer redis,
    RedisChannels channels,
    IOptionsMonitor<ChannelOptions> options,
    TimeProvider time) : IMessageBus
{
    // XADD with an exact cap, trim by age, refresh the key's TTL, publish: one atomic step, so the
    // history's order is the publish order and a subscriber never sees a frame history lacks.
    private const string PublishScript = """
        local id = redis.call('XADD', KEYS[1], 'MAXLEN', '=', ARGV[1], '*', 'p', ARGV[2], 's', ARGV[3])
        local t = redis.call('TIME')
        local minMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(ARGV[4])
        if minMs > 0 then redis.call('XTRIM', KEYS[1], 'MINID', tostring(minMs)) end
        redis.call('PEXPIRE', KEYS[1], ARGV[4])
        redis.call('PUBLISH', KEYS[2], ARGV[5] .. ARGV[2] .. id .. ARGV[3])
        return id
        """;

    private static readonly ActivitySource Source = new("Notify.Messaging");

    private static MessageBusUnavailableException Unavailable(Exception inner) => new("The message bus is unavailable: " + inner.Message, inner);

    public Task PublishAsync(BusTopic topic, ReadOnlyMemory<byte> frame, CancellationToken cancellationToken) =>
        RedisFaults.Translate(PublishCoreAsync(topic, frame, cancellationToken), Unavailable);

    private async Task PublishCoreAsync(BusTopic topic, ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var activity = StartPublish(topic);
        var message = TraceParent(activity) is { } traceParent ? Prepend(traceParent, frame.Span) : frame;
        await redis.GetSubscriber().PublishAsync(RedisChannel.Literal(channels.For(topic)), message);
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
            [current.HistorySize, prefix, suffix, ttlMs, TraceParent(activity) is { } traceParent ? traceParent + "\n" : ""]);

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
        var key = channels.History(topic);

        // Exclusive start: "(" + since. One entry more than asked tells the caller that the limit cut the replay.
        var entries = await db.StreamRangeAsync(key, "(" + since, "+", count: limit);
        var info = await db.ExecuteAsync("XINFO", "STREAM", key).ContinueWith(
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
        var newest = await redis.GetDatabase().StreamRangeAsync(channels.History(topic), "-", "+", count: 1, messageOrder: Order.Descending);
        return newest.Length > 0 ? (string)newest[0].Id! : "0-0";
    }

    public Task<IAsyncDisposable> SubscribeAsync(BusTopic topic, Action<BusTopic, ReadOnlyMemory<byte>> handler, CancellationToken cancellationToken) =>
        RedisFaults.Translate(SubscribeCoreAsync(topic, handler, cancellationToken), Unavailable);

    private async Task<IAsyncDisposable> SubscribeCoreAsync(BusTopic topic, Action<BusTopic, ReadOnlyMemory<byte>> handler, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        // A message queue per subscription (not the concurrent callback API): its handler runs for one
        // message at a time in publish order, so a topic's frames reach connections in the order sent.
        var queue = await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(channels.For(topic)));
        queue.OnMessage(message => Deliver(topic, (byte[])message.Message!, handler));
        return new Subscription(queue);
    }

    public Task<IAsyncDisposable> SubscribeAllAsync(BusTopicKind kind, Action<BusTopic, ReadOnlyMemory<byte>> handler, CancellationToken cancellationToken) =>
        RedisFaults.Translate(SubscribeAllCoreAsync(kind, handler, cancellationToken), Unavailable);

    private async Task<IAsyncDisposable> SubscribeAllCoreAsync(BusTopicKind kind, Action<BusTopic, ReadOnlyMemory<byte>> handler, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var pattern = channels.Every(kind);
        // One pattern subscription with one ordered queue: every topic's messages in the order Redis sent them.
        var queue = await redis.GetSubscriber().SubscribeAsync(RedisChannel.Pattern(pattern));
        queue.OnMessage(message =>
        {
            if (channels.TopicOf(kind, message.Channel.ToString()) is { } topic)
            {
                Deliver(topic, (byte[])message.Message!, handler);
            }
        });
        return new Subscription(queue);
    }

    /// <summary>
    /// The frame of a raw pub/sub message published through this bus, without the trace context that may
    /// precede it: for readers that subscribe to the Redis channels themselves.
    /// </summary>
    public static ReadOnlyMemory<byte> FrameOf(byte[] message) => Split(message).Frame;

    private static (int TraceParentLength, ReadOnlyMemory<byte> Frame) Split(byte[] message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Length == 0 || message[0] == (byte)'{')
        {
            return (0, message);
        }
        var newline = Array.IndexOf(message, (byte)'\n', 0, Math.Min(message.Length, 128));
        return newline < 0 ? (0, message) : (newline, message.AsMemory(newline + 1));
    }

    private static void Deliver(BusTopic topic, byte[] message, Action<BusTopic, ReadOnlyMemory<byte>> handler)
    {
        var (traceParentLength, frame) = Split(message);
        if (traceParentLength == 0)
        {
            handler(topic, frame);
            return;
        }
        ActivityContext.TryParse(Encoding.ASCII.GetString(message, 0, traceParentLength), null, out var parent);
        using var activity = Source.StartActivity("redis deliver", ActivityKind.Consumer, parent);
        activity?.SetTag("messaging.system", "redis");
        activity?.SetTag("messaging.operation.type", "process");
        handler(topic, frame);
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

    private static byte[] Prepend(string traceParent, ReadOnlySpan<byte> frame)
    {
        var message = new byte[traceParent.Length + 1 + frame.Length];
        var written = Encoding.ASCII.GetBytes(traceParent, message);
        message[written] = (byte)'\n';
        frame.CopyTo(message.AsSpan(written + 1));
        return message;
    }

    private sealed class Subscription(ChannelMessageQueue queue) : IAsyncDisposable
    {
        private int _disposed;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                await queue.UnsubscribeAsync();
            }
        }
    }
}
