using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using Notify.Core.Messaging;
using Notify.Tests.Infrastructure;
using StackExchange.Redis;

namespace Notify.Tests.Realtime;

/// <summary>
/// Its own Redis, SQLite file and one Realtime instance with the settings a test class needs, so that
/// class can break them (deny Redis commands, lock the store) or fill the instance without touching
/// anybody else. Tests in one class run one after another; each leaves no connection open.
/// </summary>
public abstract class SingleRealtimeFixture : IAsyncLifetime
{
    private readonly RedisServer _redis = new();
    private readonly string _sqlitePath = RealtimeHost.NewSqlitePath();

    internal ServiceProcess Service { get; private set; } = null!;
    internal TestBackplane Backplane { get; private set; } = null!;
    internal RedisServer Redis => _redis;

    /// <summary>Settings of the instance, as environment variables.</summary>
    protected abstract (string Key, string Value)[] Settings { get; }

    public async ValueTask InitializeAsync()
    {
        await _redis.InitializeAsync();
        Service = await RealtimeHost.StartAsync(_redis, _sqlitePath, Settings);
        Backplane = await TestBackplane.CreateAsync(_redis, _sqlitePath);
    }

    public async ValueTask DisposeAsync()
    {
        if (Backplane is not null)
        {
            await Backplane.DisposeAsync();
        }
        if (Service is not null)
        {
            await Service.DisposeAsync();
        }
        await _redis.DisposeAsync();
        TestEnvironment.DeleteSqliteFiles(_sqlitePath);
    }

    /// <summary>
    /// Denies <paramref name="commands"/> to Redis's default user (the one every service uses) until the
    /// result is disposed: the instance's next such command fails with a real NOPERM error.
    /// </summary>
    internal async Task<IAsyncDisposable> DenyRedisAsync(params string[] commands)
    {
        var db = Backplane.Redis.GetDatabase();
        await db.ExecuteAsync("ACL", ["SETUSER", "default", .. commands.Select(c => (object)("-" + c))]);
        return new Restore(db);
    }

    /// <summary>The instance's stats (admin), as <c>GET /api/ws/stats</c> answers them.</summary>
    internal async Task<JsonElement> StatsAsync()
    {
        using var http = new HttpClient { BaseAddress = Service.BaseAddress, Timeout = RealtimeHost.Wait };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.For("stats-reader", admin: true));
        using var response = await http.GetAsync("/api/ws/stats");
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    /// <summary>
    /// Waits until the instance holds no connection at all (presence shows 0 and no stream of
    /// <paramref name="userId"/>; user topics ride the shared user-bucket subscriptions, so there is no Redis
    /// subscription of the user's own to wait for), then proves the user's slots are free by holding
    /// <paramref name="max"/> notification streams at once.
    /// </summary>
    internal async Task AssertReleasedAsync(string userId, int max)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var stats = await StatsAsync();
            if (stats.GetProperty("total_connections").GetInt32() == 0 && !stats.GetProperty("users").TryGetProperty(userId, out _))
            {
                break;
            }
            Assert.True(watch.Elapsed < RealtimeHost.Wait, $"connections not released: {stats}");
            await Task.Delay(50);
        }

        var clients = new List<WsClient>();
        try
        {
            for (var i = 0; i < max; i++)
            {
                var client = await WsClient.ConnectAsync(Service, "/api/ws/notifications", TestTokens.For(userId));
                clients.Add(client);
                var connected = await client.NextAsync();
                Assert.True(connected.Type == "connected", $"connection {i + 1} of {max}: {connected}");
            }
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    private sealed class Restore(IDatabase db) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await db.ExecuteAsync("ACL", "SETUSER", "default", "+@all");
    }
}

/// <summary>One instance to break: a short store busy timeout and task poll so faults surface within a second.</summary>
public sealed class RealtimeFaultFixture : SingleRealtimeFixture
{
    protected override (string Key, string Value)[] Settings =>
    [
        ("Store__SqliteBusyTimeout", "00:00:01"),
        ("Sse__PollTimeoutSeconds", "1"),
        ("Realtime__CloseTimeout", "00:00:02"),
    ];
}

/// <summary>One small instance: 4 streams in all, 2 per user.</summary>
public sealed class RealtimeLimitsFixture : SingleRealtimeFixture
{
    public const int MaxConnections = 4;
    public const int MaxPerUser = 2;

    protected override (string Key, string Value)[] Settings =>
    [
        ("Realtime__MaxConnections", MaxConnections.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ("Realtime__MaxConnectionsPerUser", MaxPerUser.ToString(System.Globalization.CultureInfo.InvariantCulture)),
    ];
}
