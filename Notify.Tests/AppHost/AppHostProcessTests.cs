using System.Globalization;
using Notify.AppHost.Hosting;
using Notify.Tests.Testing;

namespace Notify.Tests.AppHost;

/// <summary>The AppHost as a real process, as <c>dotnet run --project Notify.AppHost</c> runs it.</summary>
public sealed class AppHostProcessTests
{
    private const int SigKill = 9;
    private const int SigTerm = 15;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Run_SigtermToAppHost_StopsEveryChildAndExitsZero()
    {
        await using var appHost = AppHostProcess.Start(["--AppHost:UseMongod=false"]);
        await appHost.WaitForOutputAsync(l => l.StartsWith("Notify is running", StringComparison.Ordinal), Deadline);
        var children = ProcessTable.ChildrenOf(appHost.Pid);
        Assert.Equal(5, children.Count); // redis-server, 2 realtime, api, worker
        await AssertEveryPrintedHealthAnswers200Async(appHost);

        appHost.Signal(SigTerm);

        Assert.Equal(0, await appHost.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Empty(await ProcessTable.WaitAllExitedAsync(children, TimeSpan.FromSeconds(5)));
        Assert.Contains(appHost.StandardOutput, l => l.Contains("stopped every process it started", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Run_AppHostKilled_KernelKillsEveryChild()
    {
        Assert.SkipUnless(ProcessLauncher.TiesChildrenToParent, "needs Linux with util-linux setsid and setpriv");
        await using var appHost = AppHostProcess.Start(["--AppHost:UseMongod=false"]);
        await appHost.WaitForOutputAsync(l => l.StartsWith("Notify is running", StringComparison.Ordinal), Deadline);
        var children = ProcessTable.ChildrenOf(appHost.Pid);
        Assert.Equal(5, children.Count);

        appHost.Signal(SigKill);

        Assert.Equal(128 + SigKill, await appHost.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        Assert.Empty(await ProcessTable.WaitAllExitedAsync(children, TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Run_RedisServerMissingAndNoInstall_ExitsOneWithOneLineSayingHowToFixIt()
    {
        var emptyBin = Directory.CreateTempSubdirectory("notify-empty-path-").FullName;
        try
        {
            await using var appHost = AppHostProcess.Start([], new Dictionary<string, string?>
            {
                ["PATH"] = emptyBin,
                ["AppHost__InstallMissing"] = "false",
                ["ConnectionStrings__redis"] = null,
            });

            Assert.Equal(1, await appHost.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            var error = Assert.Single(appHost.StandardError);
            Assert.Equal(Prerequisites.MissingRedis, error);
            Assert.Contains("apt-get install -y redis-server", error, StringComparison.Ordinal);
            Assert.Contains("ConnectionStrings__redis", error, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(emptyBin);
        }
    }

    private static async Task AssertEveryPrintedHealthAnswers200Async(AppHostProcess appHost)
    {
        var healthUrls = appHost.StandardOutput
            .SelectMany(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(w => w.StartsWith("http://", StringComparison.Ordinal) && w.EndsWith("/health", StringComparison.Ordinal))
            .Distinct()
            .ToList();
        Assert.Equal(4, healthUrls.Count);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        foreach (var url in healthUrls)
        {
            var response = await http.GetAsync(new Uri(url), TestContext.Current.CancellationToken);
            Assert.True(response.IsSuccessStatusCode, string.Create(CultureInfo.InvariantCulture, $"{url} answered {(int)response.StatusCode}"));
        }
    }
}
