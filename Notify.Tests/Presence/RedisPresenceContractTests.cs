using Notify.Core.Messaging;
using Notify.Core.Presence;
using Notify.Tests.Infrastructure;

namespace Notify.Tests.Presence;

/// <summary>The presence contract on <see cref="RedisPresence"/> and a real redis-server; each test has its own key prefix.</summary>
public sealed class RedisPresenceContractTests(RedisServer redis) : PresenceContractTests, IClassFixture<RedisServer>, IAsyncDisposable
{
    private readonly RedisChannels _channels = new($"presence-contract-{Guid.NewGuid():N}");
    private readonly RedisConnections _connections = new(redis);

    protected override async Task<IPresence> CreatePresenceAsync() =>
        new RedisPresence(await _connections.OpenAsync(), _channels, Time);

    public ValueTask DisposeAsync() => _connections.DisposeAsync();
}
