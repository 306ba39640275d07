using Notify.Tests.Infrastructure;

namespace Notify.Tests.Realtime;

/// <summary>
/// Redis, one SQLite file and two Realtime instances (A and B) sharing them, with limits small enough
/// to reach in a test. Tests share the instances but never data: each uses its own user ids. A upgrades
/// WebSockets on the connection (<c>Realtime:DirectUpgrade</c>, the default), B through the request
/// pipeline, so every test that uses both proves the two upgrades alike.
/// </summary>
public sealed class RealtimeClusterFixture : IAsyncLifetime
{
    private readonly RedisServer _redis = new();
    private readonly string _sqlitePath = RealtimeHost.NewSqlitePath();

    internal ServiceProcess A { get; private set; } = null!;
    internal ServiceProcess B { get; private set; } = null!;
    internal TestBackplane Backplane { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        await _redis.InitializeAsync();
        (string, string)[] settings =
        [
            ("Realtime__HeartbeatInterval", "00:00:02"),
            ("Realtime__MaxReplay", "20"),
            ("Realtime__ClientFrameRate", "30"),
            ("Realtime__MaxClientErrors", "3"),
            ("Channels__HistorySize", "50"),
            ("Sse__HeartbeatIntervalSeconds", "2"),
            ("Sse__TaskMaxIdleSeconds", "10"),
            ("Sse__BatchMaxIdleSeconds", "10"),
            ("Sse__PollTimeoutSeconds", "1"),
        ];
        var a = RealtimeHost.StartAsync(_redis, _sqlitePath, settings);
        var b = RealtimeHost.StartAsync(_redis, _sqlitePath, [.. settings, ("Realtime__DirectUpgrade", "false")]);
        A = await a;
        B = await b;
        Backplane = await TestBackplane.CreateAsync(_redis, _sqlitePath);
    }

    public async ValueTask DisposeAsync()
    {
        if (Backplane is not null)
        {
            await Backplane.DisposeAsync();
        }
        if (A is not null)
        {
            await A.DisposeAsync();
        }
        if (B is not null)
        {
            await B.DisposeAsync();
        }
        await _redis.DisposeAsync();
        TestEnvironment.DeleteSqliteFiles(_sqlitePath);
    }

    /// <summary>A user id no other test uses.</summary>
    internal static string NewUser(string name) => $"{name}-{Guid.NewGuid():N}"[..20];
}
