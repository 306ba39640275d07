using Notify.Core.Messaging;
using Notify.Tests.Infrastructure;

namespace Notify.Tests.Messaging;

/// <summary>The message bus contract on <see cref="RedisMessageBus"/> and a real redis-server; each test has its own key prefix.</summary>
public sealed class RedisMessageBusContractTests(RedisServer redis) : MessageBusContractTests, IClassFixture<RedisServer>, IAsyncDisposable
{
    private readonly RedisChannels _channels = new($"bus-contract-{Guid.NewGuid():N}");
    private readonly RedisConnections _connections = new(redis);

    protected override async Task<IMessageBus> CreateBusAsync(ChannelOptions? options = null) =>
        new RedisMessageBus(await _connections.OpenAsync(), _channels, new StaticOptions<ChannelOptions>(options ?? new ChannelOptions()), TimeProvider.System);

    public ValueTask DisposeAsync() => _connections.DisposeAsync();
}
