using System.Text;
using Notify.Core.Messaging;
using Notify.Tests.Infrastructure;

namespace Notify.Tests.Realtime;

/// <summary>A client that stops reading is closed with 4009 and never slows a fast client on the same instance.</summary>
public sealed class SlowConsumerTests : IAsyncLifetime
{
    private readonly RedisServer _redis = new();
    private readonly string _sqlitePath = RealtimeHost.NewSqlitePath();
    private ServiceProcess? _realtime;
    private TestBackplane? _backplane;

    public async ValueTask InitializeAsync()
    {
        await _redis.InitializeAsync();
        _realtime = await RealtimeHost.StartAsync(_redis, _sqlitePath, ("Realtime__SendQueueCapacity", "32"), ("Realtime__CloseTimeout", "00:00:20"));
        _backplane = await TestBackplane.CreateAsync(_redis, _sqlitePath);
    }

    public async ValueTask DisposeAsync()
    {
        if (_realtime is not null)
        {
            await _realtime.DisposeAsync();
        }
        if (_backplane is not null)
        {
            await _backplane.DisposeAsync();
        }
        await _redis.DisposeAsync();
        TestEnvironment.DeleteSqliteFiles(_sqlitePath);
    }

    [Fact]
    public async Task SendQueue_Overflows_ClosesWith4009WhileFastClientGetsEverything()
    {
        await using var slow = await WsClient.ConnectAsync(_realtime!, "/api/ws/notifications", TestTokens.For("slow"));
        await using var fast = await WsClient.ConnectAsync(_realtime!, "/api/ws/notifications", TestTokens.For("fast"));
        Assert.Equal("connected", (await slow.NextAsync()).Type);
        Assert.Equal("connected", (await fast.NextAsync()).Type);

        const int count = 600;
        // The fast client keeps up by definition: at most 16 frames in flight to it.
        using var window = new SemaphoreSlim(16);
        var fastReader = Task.Run(async () =>
        {
            var seen = 0;
            while (seen < count)
            {
                var frame = await fast.NextAsync();
                Assert.False(frame.IsClose, "the fast client was closed");
                if (frame.Type == "message")
                {
                    Assert.Equal(seen, frame.Data.GetProperty("payload").GetProperty("n").GetInt32());
                    seen++;
                    window.Release();
                }
            }
            return seen;
        }, TestContext.Current.CancellationToken);

        // 600 broadcasts of 32 KiB: far more than the slow client's socket buffers and its 32-frame queue.
        var padding = new string('x', 32 * 1024);
        for (var i = 0; i < count; i++)
        {
            Assert.True(await window.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken), "the fast client stopped receiving");
            var frame = Encoding.UTF8.GetBytes($"{{\"type\":\"message\",\"data\":{{\"channel\":\"broadcast\",\"id\":\"{i}\",\"payload\":{{\"n\":{i},\"pad\":\"{padding}\"}}}}}}");
            await _backplane!.Bus.PublishAsync(BusTopic.Broadcast, frame, TestContext.Current.CancellationToken);
        }

        Assert.Equal(count, await fastReader.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
        Assert.Equal(4009, await slow.ClosedAsync(TimeSpan.FromSeconds(20)));
    }
}
