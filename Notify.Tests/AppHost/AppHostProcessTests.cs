using Aspire.Hosting;
using Notify.Tests.Testing;

namespace Notify.Tests.AppHost;

/// <summary>The AppHost as a real process, as <c>dotnet run --project Notify.AppHost</c> runs it: DCP, the dashboard and every service.</summary>
public sealed class AppHostProcessTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    private static bool IsReadyLine(string line) => line.Contains("Notify is running: web UI http://", StringComparison.Ordinal);

    [Fact]
    public async Task Run_SigtermToAppHost_StopsEveryProcessItStartedAndExitsZero()
    {
        await using var appHost = AppHostProcess.Start(["--AppHost:UseMongod=false"]);
        await appHost.WaitForOutputAsync(IsReadyLine, Deadline);
        Assert.Contains("/login?t=", appHost.DashboardLoginUrl.ToString(), StringComparison.Ordinal);
        var started = ProcessTable.StartedByAppHost(appHost.Pid);
        // DCP (two processes), the dashboard, redis-server, two Realtime replicas, the Worker, the Api, each project
        // under its `dotnet run` launcher.
        Assert.True(started.Count >= 12, $"{started.Count} processes started by the AppHost");

        appHost.Signal(Signals.SigTerm);

        Assert.Equal(0, await appHost.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Empty(await ProcessTable.WaitAllExitedAsync(started, TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Run_AppHostKilled_DcpStopsEveryProcessItStarted()
    {
        await using var appHost = AppHostProcess.Start(["--AppHost:UseMongod=false"]);
        await appHost.WaitForOutputAsync(IsReadyLine, Deadline);
        var started = ProcessTable.StartedByAppHost(appHost.Pid);
        Assert.True(started.Count >= 12, $"{started.Count} processes started by the AppHost");

        appHost.Signal(Signals.SigKill);

        Assert.Equal(128 + Signals.SigKill, await appHost.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        Assert.Empty(await ProcessTable.WaitAllExitedAsync(started, TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task Run_RedisServerMissingAndNoInstall_ExitsOneWithOneLineSayingHowToInstallIt()
    {
        var emptyBin = Directory.CreateTempSubdirectory("notify-empty-path-").FullName;
        try
        {
            await using var appHost = AppHostProcess.Start(["--AppHost:InstallMissing=false"], new Dictionary<string, string?> { ["PATH"] = emptyBin });

            Assert.Equal(1, await appHost.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            var error = Assert.Single(appHost.StandardError);
            Assert.Equal(Prerequisites.MissingRedis, error);
            Assert.Contains("apt-get install -y redis-server", error, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(emptyBin);
        }
    }
}
