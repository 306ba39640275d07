using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Notify.Core.Messaging;
using Notify.Core.Tasks;
using Notify.Tests.Infrastructure;
using StackExchange.Redis;

namespace Notify.Tests.Tasks;

/// <summary>A <see cref="RedisTaskQueue"/> on the shared test Redis with its own key prefix (and bus channel prefix), so tests never share keys.</summary>
internal sealed class QueueTestContext : ITaskQueueHarness
{
    private QueueTestContext(ConnectionMultiplexer redis, QueueOptions options, FakeTimeProvider? time, string channelPrefix)
    {
        Redis = redis;
        Options = options;
        Time = (TimeProvider?)time ?? TimeProvider.System;
        FakeTime = time;
        Channels = new RedisChannels(channelPrefix);
        Queue = new RedisTaskQueue(redis, Channels, new StaticOptions<QueueOptions>(options), Time);
        Progress = new RedisProgressStore(redis, new StaticOptions<QueueOptions>(options), Time);
        Bus = new RedisMessageBus(redis, Channels, new StaticOptions<ChannelOptions>(new ChannelOptions()), Time);
    }

    public ConnectionMultiplexer Redis { get; }
    public QueueOptions Options { get; }
    public TimeProvider Time { get; }
    public FakeTimeProvider? FakeTime { get; }
    public RedisChannels Channels { get; }
    public RedisTaskQueue Queue { get; }
    public RedisProgressStore Progress { get; }
    public RedisMessageBus Bus { get; }
    public QueueLimits Limits => Options.Limits;

    ITaskQueue ITaskQueueHarness.Queue => Queue;

    public static async Task<QueueTestContext> CreateAsync(IRedisEndpoint server, Action<QueueOptions>? configure = null, bool fakeTime = false)
    {
        var unique = Guid.NewGuid().ToString("N")[..10];
        var options = new QueueOptions { KeyPrefix = "{test:" + unique + "}" };
        configure?.Invoke(options);
        var time = fakeTime ? new FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero)) : null;
        return new QueueTestContext(await server.ConnectAsync(), options, time, "notify-" + unique);
    }

    public ValueTask DisposeAsync() => Redis.DisposeAsync();
}
