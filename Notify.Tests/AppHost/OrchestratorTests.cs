using System.Net;
using Notify.AppHost.Hosting;
using Notify.Tests.Infrastructure;
using Notify.Tests.Testing;

namespace Notify.Tests.AppHost;

/// <summary>The AppHost's graph started in the test process through the testing host.</summary>
public sealed class OrchestratorTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task StartAsync_WholeGraph_EveryResourceHealthyAndEveryServiceAnswersHealthAndAlive()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Notify_AppHost>(ct);

        await app.StartAsync(ct);

        var states = app.GetStates();
        Assert.Equal(["redis", "mongo", "realtime-0", "realtime-1", "worker", "api"], states.Select(s => s.Name));
        Assert.All(states, s => Assert.True(s.State is ResourceState.Healthy or ResourceState.Skipped, $"{s.Name} is {s.State}"));
        Assert.NotEqual(app.GetEndpoint("realtime", 0), app.GetEndpoint("realtime", 1));
        foreach (var (resource, replica) in new[] { ("realtime", 0), ("realtime", 1), ("api", 0), ("worker", 0) })
        {
            using var http = app.CreateHttpClient(resource, replica);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health", ct)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/alive", ct)).StatusCode);
        }
    }

    [Fact]
    public async Task DisposeAsync_AfterCrashAndKillRestarts_NoStartedProcessLives()
    {
        var ct = TestContext.Current.CancellationToken;
        var app = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Notify_AppHost>(o =>
        {
            o.Configuration["AppHost:UseMongod"] = "false";
            o.WithReplicas("realtime", 2);
        }, ct);
        List<ProcessTable.ProcessIdentity> started;
        try
        {
            await app.StartAsync(ct);
            var crashed = app.GetProcessId("realtime", 0);
            var killed = app.GetProcessId("realtime", 1);

            ProcessLauncher.Signal(crashed, 9); // from outside: a crash the AppHost did not cause
            await app.KillReplicaAsync("realtime", 1);
            await WaitUntilAsync(() => app.GetProcessId("realtime", 0) != crashed, ct);
            await app.WaitForResourceHealthyAsync("realtime", 0, ct).WaitAsync(Deadline, ct);
            await app.WaitForResourceHealthyAsync("realtime", 1, ct).WaitAsync(Deadline, ct);

            Assert.NotEqual(killed, app.GetProcessId("realtime", 1));
            Assert.Contains(app.GetLogs("apphost"), l => l.Contains("realtime-0 exited unexpectedly with code 137; restarting", StringComparison.Ordinal));
            Assert.Contains(app.GetLogs("apphost"), l => l.Contains("realtime-1 was killed", StringComparison.Ordinal));
            foreach (var replica in new[] { 0, 1 })
            {
                using var http = app.CreateHttpClient("realtime", replica);
                Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health", ct)).StatusCode);
            }
            Assert.Equal(7, app.GetProcessIds().Count); // redis, 2 realtime, api, worker, and both restarted replicas
            started = [.. app.GetProcessIds().Select(ProcessTable.Identify).OfType<ProcessTable.ProcessIdentity>()];
            Assert.Equal(5, started.Count);
        }
        finally
        {
            await app.DisposeAsync();
        }

        Assert.Empty(await ProcessTable.WaitAllExitedAsync(started, TimeSpan.FromSeconds(5)));
        Assert.DoesNotContain(ProcessTable.ChildrenOf(Environment.ProcessId), started.Contains);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(Deadline);
        while (!condition())
        {
            await Task.Delay(50, deadline.Token);
        }
    }

    [Fact]
    public async Task StopReplicaAsync_ThenStartReplicaAsync_StaysDownThenServesOnSamePort()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Notify_AppHost>(ct);
        await app.StartAsync(ct);
        var endpoint = app.GetEndpoint("realtime", 0);
        using var http = app.CreateHttpClient("realtime", 0);

        await app.StopReplicaAsync("realtime", 0, ct);

        Assert.Equal(ResourceState.Stopped, app.GetState("realtime", 0));
        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync("/alive", ct));
        Assert.Equal(ResourceState.Healthy, app.GetState("realtime", 1));

        await app.StartReplicaAsync("realtime", 0, ct).WaitAsync(Deadline, ct);

        Assert.Equal(endpoint, app.GetEndpoint("realtime", 0));
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health", ct)).StatusCode);
    }

    [Fact]
    public async Task StartAsync_ServicesEnvironment_SharesSigningKeySqliteFileAndRealtimeReplicas()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Notify_AppHost>(ct);
        await app.StartAsync(ct);
        var orchestrator = app.Orchestrator!;
        var api = app.Resources.OfType<ProjectResource>().Single(p => p.Name == "api");

        var env = orchestrator.RunEnvironment(api, 0, "api").ToDictionary(e => e.Name, e => e.Value);

        Assert.Equal(Infrastructure.TestEnvironment.SigningKey, env["Auth__SigningKey"]);
        Assert.Equal("true", env["Auth__EnableDevTokens"]);
        Assert.Equal(app.GetEndpoint("api").ToString().TrimEnd('/'), env["Cors__Origins__0"]);
        Assert.Equal(app.GetEndpoint("api").ToString().TrimEnd('/'), env["ASPNETCORE_URLS"]);
        Assert.Equal(app.GetEndpoint("realtime", 0).ToString().TrimEnd('/'), env["services__realtime__http__0"]);
        Assert.Equal(app.GetEndpoint("realtime", 1).ToString().TrimEnd('/'), env["services__realtime__http__1"]);
        Assert.Equal(app.GetConnectionString("redis"), env["ConnectionStrings__redis"]);
        Assert.Equal("api", env["OTEL_SERVICE_NAME"]);
        if (app.GetConnectionString("notifydb") is null)
        {
            Assert.Equal(app.GetSqlitePath(), env["Store__SqlitePath"]);
            Assert.False(env.ContainsKey("ConnectionStrings__notifydb"));
        }
    }

    [Fact]
    public async Task StartAsync_ServiceCrashesAtStartWithNoRestartsLeft_ThrowsNamingItAndStopsEverything()
    {
        var ct = TestContext.Current.CancellationToken;
        // The worker is told to listen on a port this test holds: it dies at start, every time.
        using var taken = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        await using var app = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Notify_AppHost>(o =>
        {
            o.Configuration["AppHost:MaxRestarts"] = "0";
            o.WithEnvironment("worker", "ASPNETCORE_URLS", $"http://127.0.0.1:{port}");
        }, ct);

        var error = await Assert.ThrowsAsync<AppHostException>(() => app.StartAsync(ct));

        Assert.StartsWith("worker exited with code", error.Message, StringComparison.Ordinal);
        Assert.True(error.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase), error.Message); // its last log lines are quoted
        var started = app.GetProcessIds();
        Assert.Contains(app.GetProcessId("redis"), started);
        Assert.All(started, pid => Assert.Null(ProcessTable.Identify(pid) is { } p && ProcessTable.IsRunning(p) ? p : null));
        Assert.All(app.GetStates().Where(s => s.Name != "mongo"), s => Assert.True(s.State is ResourceState.Stopped or ResourceState.Failed, $"{s.Name} is {s.State}"));
    }

    [Fact]
    public async Task StartAsync_WithConnectionStringsRedis_UsesThatRedisAndStartsNoRedisServer()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Notify_AppHost>(o =>
        {
            o.Configuration["ConnectionStrings:redis"] = redis.ConnectionString;
            o.Configuration["AppHost:UseMongod"] = "false";
            o.WithReplicas("realtime", 1);
        }, ct);

        await app.StartAsync(ct);

        Assert.Equal(ResourceState.External, app.GetState("redis"));
        Assert.Equal(redis.ConnectionString, app.GetConnectionString("redis"));
        Assert.Equal(3, app.GetProcessIds().Count); // realtime, api, worker: no redis-server of its own
        using var http = app.CreateHttpClient("api");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health", ct)).StatusCode);
    }

    [Fact]
    public async Task StartAsync_InvalidAppHostOption_ThrowsNamingTheKeyAndStartsNothing()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Notify_AppHost>(
            o => o.Configuration["AppHost:MaxRestarts"] = "-1", ct);

        var error = await Assert.ThrowsAsync<AppHostException>(() => app.StartAsync(ct));

        Assert.StartsWith("Invalid configuration AppHost:MaxRestarts:", error.Message, StringComparison.Ordinal);
        Assert.Null(app.Orchestrator);
    }
}
