using Microsoft.Extensions.Time.Testing;
using Notify.Core.Presence;

namespace Notify.Tests.Realtime;

/// <summary><see cref="PresenceStatsCache"/>: online-count and stats read presence at most once per second per process.</summary>
public sealed class PresenceStatsCacheTests
{
    [Fact]
    public async Task GetAsync_ManyCallsWithinMaxAge_ReadsPresenceOnce()
    {
        var time = new FakeTimeProvider();
        var presence = new CountingPresence();
        var cache = new PresenceStatsCache(presence, time);

        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(1, (await cache.GetAsync(CancellationToken.None)).TotalUsers);
        }
        Assert.Equal(1, presence.Reads);

        time.Advance(PresenceStatsCache.MaxAge - TimeSpan.FromMilliseconds(1));
        await cache.GetAsync(CancellationToken.None);
        Assert.Equal(1, presence.Reads);

        time.Advance(TimeSpan.FromMilliseconds(1));
        await cache.GetAsync(CancellationToken.None);
        Assert.Equal(2, presence.Reads);
    }

    [Fact]
    public async Task GetAsync_ConcurrentCallers_ShareOneRead()
    {
        var presence = new CountingPresence { Gate = new TaskCompletionSource() };
        var cache = new PresenceStatsCache(presence, new FakeTimeProvider());

        var callers = Enumerable.Range(0, 50).Select(_ => cache.GetAsync(CancellationToken.None)).ToArray();
        presence.Gate.SetResult();
        await Task.WhenAll(callers).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.Equal(1, presence.Reads);
    }

    private sealed class CountingPresence : IPresence
    {
        private int _reads;

        public int Reads => Volatile.Read(ref _reads);
        public TaskCompletionSource? Gate { get; init; }

        public Task PublishAsync(InstancePresence snapshot, TimeSpan ttl, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task RemoveAsync(string instanceId, CancellationToken cancellationToken) => Task.CompletedTask;

        public async Task<IReadOnlyList<InstancePresence>> ListAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _reads);
            if (Gate is not null)
            {
                await Gate.Task;
            }
            return [new InstancePresence { Id = "i1", StartedAt = DateTimeOffset.UnixEpoch, Connections = 1, UserConnections = 1, Users = new Dictionary<string, int> { ["alice"] = 1 } }];
        }
    }
}
