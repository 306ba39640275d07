using Microsoft.Extensions.Hosting;
using Notify.Tests.Infrastructure;

namespace Notify.Tests.Faults;

/// <summary>
/// A sentinel service name that the Sentinels do not monitor is refused at start by every service with
/// one line naming <c>ConnectionStrings:redis</c>; Sentinels that do not answer are an outage, not a
/// configuration error.
/// </summary>
public sealed class SentinelConfigurationTests : IAsyncLifetime
{
    private RedisSentinelSet _set = null!;

    public async ValueTask InitializeAsync() => _set = await RedisSentinelSet.StartAsync();

    public async ValueTask DisposeAsync() => await _set.DisposeAsync();

    [Theory]
    [InlineData("Notify.Api")]
    [InlineData("Notify.Realtime")]
    [InlineData("Notify.Worker")]
    public async Task ServiceName_NotMonitoredByTheSentinels_RefusesToStartWithOneLineNamingTheKey(string project)
    {
        var sqlite = RealtimeTestPaths();
        var environment = new Dictionary<string, string?>
        {
            ["ConnectionStrings__redis"] = _set.ConnectionStringFor("no-such-primary"),
            ["Store__SqlitePath"] = sqlite,
            ["Auth__SigningKey"] = TestEnvironment.SigningKey,
            ["Auth__EnableDevTokens"] = "true",
        };
        try
        {
            var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => ServiceProcess.StartAsync(project, environment, TimeSpan.FromSeconds(60)));

            Assert.StartsWith($"{project} exited with 1:", failure.Message, StringComparison.Ordinal);
            var lines = failure.Message.Split('\n')[1..].Where(l => l.Length > 0).ToList();
            var line = Assert.Single(lines);
            Assert.StartsWith("Refusing to start: ConnectionStrings:redis names the Sentinel service 'no-such-primary'", line, StringComparison.Ordinal);
            Assert.Contains($"127.0.0.1:{_set.SentinelPorts[0]}", line, StringComparison.Ordinal);
            Assert.DoesNotContain(_set.Password, failure.Message, StringComparison.Ordinal);
        }
        finally
        {
            TestEnvironment.DeleteSqliteFiles(sqlite);
        }
    }

    [Fact]
    public void Problem_KnownServiceOrNoSentinelAnswering_IsNone()
    {
        Assert.Null(RedisSentinelCheck.Problem(_set.ConnectionString));
        Assert.Null(RedisSentinelCheck.Problem($"127.0.0.1:{RedisServer.FreePort()},serviceName=anything,abortConnect=false"));
        Assert.Null(RedisSentinelCheck.Problem($"127.0.0.1:{_set.PrimaryPort},password={_set.Password}"));
        Assert.NotNull(RedisSentinelCheck.Problem(_set.ConnectionStringFor("no-such-primary")));
    }

    private static string RealtimeTestPaths() => Path.Combine(Path.GetTempPath(), $"notify-sentinel-{Guid.NewGuid():N}.db");
}
