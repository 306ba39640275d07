using System.Collections.Concurrent;
using System.Diagnostics;
using StackExchange.Redis;

namespace Notify.Tests.Infrastructure;

/// <summary>
/// What the services rely on from a multiplexer made from a sentinel connection string (as
/// <c>AddRedisClient</c> makes it): it finds the primary through the Sentinels, and after the primary is
/// killed and a replica promoted it writes to the new primary and its subscriptions receive again, with
/// the subscription connection reported failed and then restored (the events Realtime's catch-up hangs on).
/// </summary>
public sealed class RedisSentinelSetTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SentinelMultiplexer_PrimaryKilled_WritesAndSubscriptionsMoveToThePromotedReplica()
    {
        await using var set = await RedisSentinelSet.StartAsync();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(set.ConnectionString);
        var events = new ConcurrentQueue<string>();
        redis.ConnectionFailed += (_, e) => events.Enqueue($"failed {e.ConnectionType} {e.EndPoint}");
        redis.ConnectionRestored += (_, e) => events.Enqueue($"restored {e.ConnectionType} {e.EndPoint}");
        var received = new ConcurrentQueue<string>();
        var channel = RedisChannel.Literal("sentinel-" + Guid.NewGuid().ToString("N"));
        (await redis.GetSubscriber().SubscribeAsync(channel)).OnMessage(m => received.Enqueue((string)m.Message!));
        var key = "sentinel-key-" + Guid.NewGuid().ToString("N");
        await redis.GetDatabase().StringSetAsync(key, "before");
        await redis.GetSubscriber().PublishAsync(channel, "before");
        await WaitUntilAsync(() => received.Contains("before"), "the message before the failover");

        var old = await set.KillPrimaryAsync();
        var watch = Stopwatch.StartNew();
        var promoted = await set.WaitForNewPrimaryAsync(old, TimeSpan.FromSeconds(60));

        // The client follows without being told: writes and publications succeed again on the new primary.
        await WaitUntilAsync(async () =>
        {
            try
            {
                await redis.GetDatabase().StringSetAsync(key, "after");
                await redis.GetSubscriber().PublishAsync(channel, "after");
                return received.Contains("after");
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                return false;
            }
        }, "a write and a message after the failover");
        TestContext.Current.TestOutputHelper?.WriteLine($"primary {old} -> {promoted}; client writing again after {watch.ElapsedMilliseconds} ms; events:\n{string.Join('\n', events)}");

        Assert.NotEqual(old, promoted);
        Assert.Equal("after", (string?)await redis.GetDatabase().StringGetAsync(key));
        Assert.Contains(redis.GetEndPoints(), e => e.ToString()!.EndsWith(":" + promoted, StringComparison.Ordinal));
        Assert.Contains($"failed Subscription 127.0.0.1:{old}", events);
        // The subscription connection comes back on whichever node now carries it (the promoted primary or a replica).
        Assert.Contains(events, e => e.StartsWith("restored Subscription", StringComparison.Ordinal));
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what) => await WaitUntilAsync(() => Task.FromResult(condition()), what);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), "timed out waiting for " + what);
            await Task.Delay(100, Ct);
        }
    }
}
