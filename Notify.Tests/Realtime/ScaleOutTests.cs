using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Notify.Tests.Infrastructure;

namespace Notify.Tests.Realtime;

/// <summary>
/// Presence, stats, crashes and graceful shutdown with two Realtime instances. Every test starts its
/// own instances (they get killed) on a Redis of its own.
/// </summary>
public sealed class ScaleOutTests : IAsyncLifetime
{
    private readonly RedisServer _redis = new();
    private readonly string _sqlitePath = RealtimeHost.NewSqlitePath();
    private readonly List<ServiceProcess> _services = [];
    private TestBackplane _backplane = null!;

    public async ValueTask InitializeAsync()
    {
        await _redis.InitializeAsync();
        _backplane = await TestBackplane.CreateAsync(_redis, _sqlitePath);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var service in _services)
        {
            await service.DisposeAsync();
        }
        await _backplane.DisposeAsync();
        await _redis.DisposeAsync();
        TestEnvironment.DeleteSqliteFiles(_sqlitePath);
    }

    [Fact]
    public async Task Stats_ClientsSpreadOverTwoInstances_ExactTotals()
    {
        var (a, b) = await StartTwoAsync();
        var clients = new List<WsClient>();
        try
        {
            clients.Add(await ConnectedAsync(a, "/api/ws/notifications", TestTokens.For("alice")));
            clients.Add(await ConnectedAsync(b, "/api/ws/notifications", TestTokens.For("alice")));
            clients.Add(await ConnectedAsync(b, "/api/ws/notifications", TestTokens.For("bob")));
            clients.Add(await ConnectedAsync(a, "/api/ws/admin", TestTokens.For("root", admin: true)));

            var stats = await WaitForStatsAsync(a, s => s.GetProperty("total_connections").GetInt32() == 4);
            Assert.Equal(2, stats.GetProperty("total_users").GetInt32());
            Assert.Equal(3, stats.GetProperty("total_user_connections").GetInt32());
            Assert.Equal(1, stats.GetProperty("total_admin_connections").GetInt32());
            Assert.Equal(2, stats.GetProperty("users").GetProperty("alice").GetInt32());
            Assert.Equal(1, stats.GetProperty("users").GetProperty("bob").GetInt32());
            var instances = stats.GetProperty("instances").EnumerateArray().ToList();
            Assert.Equal(2, instances.Count);
            Assert.Equal([2, 2], instances.Select(i => i.GetProperty("connections").GetInt32()).Order());
            Assert.All(instances, i => Assert.True(i.TryGetProperty("started_at", out _) && i.TryGetProperty("id", out _)));

            Assert.Equal(2, await OnlineCountAsync(b));

            await clients[2].DisposeAsync();
            await WaitForStatsAsync(b, s => s.GetProperty("total_connections").GetInt32() == 3);
            Assert.Equal(1, await OnlineCountAsync(a));
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
    public async Task Stats_AsNonAdmin_IsForbidden()
    {
        var (a, _) = await StartTwoAsync(startSecond: false);
        using var http = Http(a, TestTokens.For("carol"));

        using var response = await http.GetAsync("/api/ws/stats", TestContext.Current.CancellationToken);

        Assert.Equal(System.Net.HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Presence_InstanceKilled_ItsConnectionsDropOutAfterTtl()
    {
        var (a, b) = await StartTwoAsync();
        await using var onA = await ConnectedAsync(a, "/api/ws/notifications", TestTokens.For("dave"));
        await using var onB = await ConnectedAsync(b, "/api/ws/notifications", TestTokens.For("erin"));
        await WaitForStatsAsync(b, s => s.GetProperty("total_connections").GetInt32() == 2);

        await a.KillAsync();

        // Nothing but the presence TTL (3 s here) removes a killed instance's entries; the deadline only bounds the wait.
        var stats = await WaitForStatsAsync(b, s => s.GetProperty("total_connections").GetInt32() == 1, TimeSpan.FromSeconds(15));
        Assert.Equal(1, stats.GetProperty("instances").GetArrayLength());
        Assert.False(stats.GetProperty("users").TryGetProperty("dave", out _));
    }

    [Fact]
    public async Task Failover_InstanceKilledWhileNotificationsFlow_ClientGetsEveryOneOnceInOrder()
    {
        var (a, b) = await StartTwoAsync();
        const string user = "frank";
        var received = new List<string>();
        var client = await ConnectedAsync(a, "/api/ws/notifications", TestTokens.For(user));

        using var stop = new CancellationTokenSource();
        var sent = new List<string>();
        var producer = Task.Run(async () =>
        {
            for (var i = 0; i < 60; i++)
            {
                sent.Add((await _backplane.NotifyAsync(user, $"n{i}")).Id);
                if (i == 20)
                {
                    await a.KillAsync();
                }
                await Task.Delay(10, CancellationToken.None);
            }
        }, TestContext.Current.CancellationToken);

        // Read until the instance dies, then reconnect to the other one with the last id seen.
        while (true)
        {
            Received frame;
            try
            {
                frame = await client.NextAsync();
            }
            catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or OperationCanceledException)
            {
                break;
            }
            if (frame.IsClose)
            {
                break;
            }
            if (frame.Type == "notification")
            {
                received.Add(frame.Data.GetProperty("id").GetString()!);
            }
        }
        await client.DisposeAsync();
        await using var again = await WsClient.ConnectAsync(b, "/api/ws/notifications", TestTokens.For(user), received.Count > 0 ? "last_id=" + received[^1] : null);
        Assert.Equal("connected", (await again.NextAsync()).Type);
        await producer.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
        while (received.Count < sent.Count)
        {
            var frame = await again.NextAsync();
            Assert.Equal("notification", frame.Type);
            received.Add(frame.Data.GetProperty("id").GetString()!);
        }

        Assert.Equal(sent, received);
    }

    [Fact]
    public async Task Shutdown_Sigterm_ClosesEveryConnectionWith1001AndExitsWithinTenSeconds()
    {
        var (a, _) = await StartTwoAsync(startSecond: false);
        await using var first = await ConnectedAsync(a, "/api/ws/notifications", TestTokens.For("gina"));
        await using var second = await ConnectedAsync(a, "/api/ws/admin", TestTokens.For("root", admin: true));
        var closes = new[] { first.ClosedAsync(), second.ClosedAsync() };

        var watch = Stopwatch.StartNew();
        await a.StopAsync(TimeSpan.FromSeconds(10));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"exit took {watch.Elapsed}");
        Assert.True(a.HasExited);
        var codes = await Task.WhenAll(closes).WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        Assert.Equal(new[] { 1001, 1001 }, codes);
    }

    [Fact]
    public async Task Logs_TokenInQueryString_NeverWritten()
    {
        var (a, _) = await StartTwoAsync(startSecond: false);
        var token = TestTokens.For("henry");
        await using (var client = await ConnectedAsync(a, "/api/ws/notifications", token))
        {
            await client.SendAsync(new { type = "ping" });
            await client.NextAsync();
        }
        await using (var rejected = await WsClient.ConnectAsync(a, "/api/ws/notifications", token + "x"))
        {
            await rejected.ClosedAsync();
        }

        await a.StopAsync(TimeSpan.FromSeconds(10));
        Assert.Contains("henry", a.RecentLog, StringComparison.Ordinal);
        Assert.DoesNotContain(token[..40], a.RecentLog, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RuntimeSettings_StoredHeartbeat_AppliesWithoutRestart()
    {
        var (a, _) = await StartTwoAsync(startSecond: false);
        await using (var before = await WsClient.ConnectAsync(a, "/api/ws/notifications", TestTokens.For("ivan")))
        {
            Assert.Equal(30, (await before.NextAsync()).Data.GetProperty("heartbeat_interval_s").GetDouble());
        }

        await _backplane.StoreSettingsAsync(new Dictionary<string, string> { ["Realtime:HeartbeatIntervalSeconds"] = "5" });

        var deadline = Stopwatch.StartNew();
        double interval;
        var attempt = 0;
        do
        {
            await using var client = await WsClient.ConnectAsync(a, "/api/ws/notifications", TestTokens.For($"ivan{attempt++}"));
            interval = (await client.NextAsync()).Data.GetProperty("heartbeat_interval_s").GetDouble();
        }
        while (interval != 5 && deadline.Elapsed < RealtimeHost.Wait);
        Assert.Equal(5, interval);
    }

    [Fact]
    public async Task Heartbeat_ConfiguredWithTheRuntimeSettingKey_IsTheAnnouncedInterval()
    {
        var service = await RealtimeHost.StartAsync(_redis, _sqlitePath, ("Realtime__HeartbeatIntervalSeconds", "7"));
        _services.Add(service);

        await using var client = await WsClient.ConnectAsync(service, "/api/ws/notifications", TestTokens.For("judy"));

        Assert.Equal(7, (await client.NextAsync()).Data.GetProperty("heartbeat_interval_s").GetDouble());
    }

    private async Task<(ServiceProcess A, ServiceProcess B)> StartTwoAsync(bool startSecond = true)
    {
        (string, string) refresh = ("RuntimeSettings__RefreshInterval", "00:00:00.500");
        var a = RealtimeHost.StartAsync(_redis, _sqlitePath, refresh);
        var b = startSecond ? RealtimeHost.StartAsync(_redis, _sqlitePath, refresh) : null;
        _services.Add(await a);
        if (b is not null)
        {
            _services.Add(await b);
        }
        return (_services[0], b is null ? null! : _services[1]);
    }

    private static async Task<WsClient> ConnectedAsync(ServiceProcess service, string path, string token)
    {
        var client = await WsClient.ConnectAsync(service, path, token);
        var connected = await client.NextAsync();
        Assert.Equal("connected", connected.Type);
        return client;
    }

    private static HttpClient Http(ServiceProcess service, string token)
    {
        var http = new HttpClient { BaseAddress = service.BaseAddress, Timeout = RealtimeHost.Wait };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    private static async Task<int> OnlineCountAsync(ServiceProcess service)
    {
        using var http = Http(service, TestTokens.For("counter"));
        var body = await http.GetFromJsonAsync<JsonElement>("/api/notifications/online-count", TestContext.Current.CancellationToken);
        return body.GetProperty("online_count").GetInt32();
    }

    private static async Task<JsonElement> WaitForStatsAsync(ServiceProcess service, Func<JsonElement, bool> condition, TimeSpan? timeout = null)
    {
        using var http = Http(service, TestTokens.For("root", admin: true));
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var stats = await http.GetFromJsonAsync<JsonElement>("/api/ws/stats", TestContext.Current.CancellationToken);
            if (condition(stats))
            {
                return stats;
            }
            if (deadline.Elapsed > (timeout ?? RealtimeHost.Wait))
            {
                Assert.Fail("stats never matched: " + stats);
            }
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }
}
