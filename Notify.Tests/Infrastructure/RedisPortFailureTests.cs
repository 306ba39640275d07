using Microsoft.Extensions.Options;
using Notify.Core.Messaging;
using Notify.Core.Presence;
using Notify.Core.Tasks;
using StackExchange.Redis;

namespace Notify.Tests.Infrastructure;

/// <summary>
/// With Redis unreachable, the Redis adapters fail with their port's documented exception (the Redis
/// exception inside), so callers behind the ports never handle a Redis type.
/// </summary>
public sealed class RedisPortFailureTests : IAsyncLifetime
{
    private ConnectionMultiplexer _unreachable = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        // Nothing listens on the port; fail fast instead of queueing commands until a timeout.
        var options = ConfigurationOptions.Parse($"127.0.0.1:{RedisServer.FreePort()},abortConnect=false,connectTimeout=500,connectRetry=0");
        options.BacklogPolicy = BacklogPolicy.FailFast;
        _unreachable = await ConnectionMultiplexer.ConnectAsync(options);
    }

    public async ValueTask DisposeAsync() => await _unreachable.DisposeAsync();

    [Fact]
    public async Task MessageBus_RedisUnreachable_ThrowsMessageBusUnavailable()
    {
        var bus = new RedisMessageBus(_unreachable, new RedisChannels("unreachable"), new StaticOptions<ChannelOptions>(new ChannelOptions()), TimeProvider.System);

        var publish = await Assert.ThrowsAsync<MessageBusUnavailableException>(() => bus.PublishToChannelAsync(BusTopic.Broadcast, "all", System.Text.Json.JsonSerializer.SerializeToElement(1), Ct));
        var history = await Assert.ThrowsAsync<MessageBusUnavailableException>(() => bus.ReadHistoryAsync(BusTopic.Broadcast, "0", 10, Ct));

        Assert.IsAssignableFrom<RedisException>(publish.InnerException);
        Assert.IsAssignableFrom<RedisException>(history.InnerException);
    }

    [Fact]
    public async Task Presence_RedisUnreachable_ThrowsPresenceUnavailable()
    {
        var presence = new RedisPresence(_unreachable, new RedisChannels("unreachable"), TimeProvider.System);

        var list = await Assert.ThrowsAsync<PresenceUnavailableException>(() => presence.ListAsync(Ct));

        Assert.IsAssignableFrom<RedisException>(list.InnerException);
    }

    [Fact]
    public async Task TaskQueue_RedisUnreachable_ThrowsTaskQueueUnavailable()
    {
        IOptionsMonitor<QueueOptions> options = new StaticOptions<QueueOptions>(new QueueOptions { KeyPrefix = "unreachable" });
        var queue = new RedisTaskQueue(_unreachable, new RedisChannels("unreachable"), options, TimeProvider.System);

        var enqueue = await Assert.ThrowsAsync<TaskQueueUnavailableException>(() => queue.EnqueueAsync("alice", "demo", null, Ct));
        var stats = await Assert.ThrowsAsync<TaskQueueUnavailableException>(() => queue.GetStatsAsync(Ct));

        Assert.IsAssignableFrom<RedisException>(enqueue.InnerException);
        Assert.IsAssignableFrom<RedisException>(stats.InnerException);
    }
}
