using System.Text.Json.Nodes;
using System.Threading.Channels;
using Notify.Core.Messaging;
using StackExchange.Redis;

namespace Notify.Tests.Api;

/// <summary>Listens on the Redis channel of one bus topic, as a Realtime instance would, and collects the frames.</summary>
public sealed class BusProbe : IAsyncDisposable
{
    private readonly ConnectionMultiplexer _redis;
    private readonly Channel<JsonObject> _frames = Channel.CreateUnbounded<JsonObject>();
    private readonly Action<JsonObject>? _onFrame;

    private BusProbe(ConnectionMultiplexer redis, Action<JsonObject>? onFrame)
    {
        _redis = redis;
        _onFrame = onFrame;
    }

    /// <summary>Subscribes to <paramref name="topic"/>; <paramref name="onFrame"/> runs on arrival, before the frame is queued.</summary>
    public static async Task<BusProbe> StartAsync(ApiFixture fixture, BusTopic topic, Action<JsonObject>? onFrame = null)
    {
        var probe = new BusProbe(await fixture.Redis.ConnectAsync(), onFrame);
        var channel = RedisChannel.Literal(new RedisChannels().For(topic));
        await probe._redis.GetSubscriber().SubscribeAsync(channel, (_, value) =>
        {
            var frame = JsonNode.Parse(RedisMessageBus.FrameOf((byte[])value!).Span)!.AsObject();
            probe._onFrame?.Invoke(frame);
            probe._frames.Writer.TryWrite(frame);
        });
        return probe;
    }

    /// <summary>The next frame, or a timeout failure after 10 s.</summary>
    public async Task<JsonObject> NextAsync() =>
        await _frames.Reader.ReadAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

    /// <summary>The next frame whose <c>type</c> is <paramref name="type"/>.</summary>
    public async Task<JsonObject> NextOfTypeAsync(string type)
    {
        while (true)
        {
            var frame = await NextAsync();
            if ((string?)frame["type"] == type)
            {
                return frame;
            }
        }
    }

    public async ValueTask DisposeAsync() => await _redis.DisposeAsync();
}
