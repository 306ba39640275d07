using System.Net;

namespace Notify.Tests.Realtime;

/// <summary>
/// Every stream kind counts against <c>Realtime:MaxConnectionsPerUser</c>, and the instance holds at most
/// <c>Realtime:MaxConnections</c> streams (503 with <c>Retry-After</c> before any upgrade), each at its edge.
/// </summary>
public sealed class ConnectionLimitTests(RealtimeLimitsFixture instance) : IClassFixture<RealtimeLimitsFixture>
{
    private static string NewUser(string name) => RealtimeClusterFixture.NewUser(name);

    [Fact]
    public async Task UserLimit_TaskAndNotificationStreams_ThirdOfAnyKindIsRefused()
    {
        var user = NewUser("kinds");
        var token = TestTokens.For(user);
        var task = await instance.Backplane.Queue.EnqueueAsync(user, "demo", null, TestContext.Current.CancellationToken);
        try
        {
            await using var taskSocket = await WsClient.ConnectAsync(instance.Service, $"/api/ws/tasks/{task.Id}", token);
            Assert.Equal("connected", (await taskSocket.NextAsync()).Type);
            await using var events = await SseClient.ConnectAsync(instance.Service, "/api/sse/notifications", token);
            Assert.Equal(HttpStatusCode.OK, events.Response.StatusCode);
            Assert.Equal("connected", (await events.NextAsync())!.Event);

            await using var third = await WsClient.ConnectAsync(instance.Service, "/api/ws/notifications", token);
            Assert.Equal(4008, await third.ClosedAsync());
            await using var thirdTask = await SseClient.ConnectAsync(instance.Service, $"/api/sse/tasks/{task.Id}", token);
            Assert.Equal(HttpStatusCode.TooManyRequests, thirdTask.Response.StatusCode);
        }
        finally
        {
            await instance.Backplane.Queue.CancelAsync(task.Id, CancellationToken.None);
        }
    }

    [Fact]
    public async Task UserLimit_AdminStreams_CountToo()
    {
        var admin = TestTokens.For(NewUser("adm"), admin: true);
        await using var first = await WsClient.ConnectAsync(instance.Service, "/api/ws/admin", admin);
        await using var second = await WsClient.ConnectAsync(instance.Service, "/api/ws/admin", admin);
        Assert.Equal("connected", (await first.NextAsync()).Type);
        Assert.Equal("connected", (await second.NextAsync()).Type);

        await using var third = await WsClient.ConnectAsync(instance.Service, "/api/ws/notifications", admin);
        Assert.Equal(4008, await third.ClosedAsync());
    }

    [Fact]
    public async Task InstanceLimit_Full_Refuses503BeforeUpgradeUntilOneCloses()
    {
        var clients = new List<WsClient>();
        try
        {
            for (var i = 0; i < RealtimeLimitsFixture.MaxConnections; i++)
            {
                // Two users, each at their own limit: the instance is full, no user is over theirs. A stream an earlier
                // test of this class closed may still hold its slot for a moment: wait for the room, bounded.
                var client = await ConnectWhenRoomAsync(TestTokens.For($"full-{i / 2}-{Guid.NewGuid():N}"[..12]));
                clients.Add(client);
                Assert.Equal("connected", (await client.NextAsync()).Type);
            }

            var newcomer = TestTokens.For(NewUser("late"));
            var (status, retryAfter) = await WsClient.RefusedUpgradeAsync(instance.Service, "/api/ws/notifications", newcomer);
            Assert.Equal(503, status);
            Assert.Equal("5", retryAfter);
            await using (var events = await SseClient.ConnectAsync(instance.Service, "/api/sse/notifications", newcomer))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, events.Response.StatusCode);
                Assert.Equal(TimeSpan.FromSeconds(5), events.Response.Headers.RetryAfter?.Delta);
            }

            await clients[0].DisposeAsync();
            clients.RemoveAt(0);
            await using var admitted = await ConnectWhenRoomAsync(newcomer);
            Assert.Equal("connected", (await admitted.NextAsync()).Type);
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task OnlineCount_CalledFiftyTimes_ReadsPresenceFromRedisAtMostOncePerSecond()
    {
        var redis = instance.Backplane.Redis.GetDatabase();
        using var http = new HttpClient { BaseAddress = instance.Service.BaseAddress, Timeout = RealtimeHost.Wait };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestTokens.For(NewUser("count")));
        var before = await PresenceReadsAsync(redis);
        var watch = System.Diagnostics.Stopwatch.StartNew();

        for (var i = 0; i < 50; i++)
        {
            using var response = await http.GetAsync("/api/notifications/online-count", TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var reads = await PresenceReadsAsync(redis) - before;
        Assert.InRange(reads, 1, (long)Math.Ceiling(watch.Elapsed.TotalSeconds) + 1);
    }

    /// <summary>How often Redis served a read of the presence index (one per presence snapshot read).</summary>
    private static async Task<long> PresenceReadsAsync(StackExchange.Redis.IDatabase redis)
    {
        var info = (string)(await redis.ExecuteAsync("INFO", "commandstats"))!;
        var line = info.Split('\n').FirstOrDefault(l => l.StartsWith("cmdstat_zrangebyscore:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split("calls=")[1].Split(',')[0], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Connects once the instance has given back a closed stream's slot (bounded wait).</summary>
    private async Task<WsClient> ConnectWhenRoomAsync(string token)
    {
        var deadline = DateTimeOffset.UtcNow + RealtimeHost.Wait;
        while (true)
        {
            try
            {
                return await WsClient.ConnectAsync(instance.Service, "/api/ws/notifications", token);
            }
            catch (System.Net.WebSockets.WebSocketException) when (DateTimeOffset.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }
}
