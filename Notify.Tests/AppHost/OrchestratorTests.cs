using System.Net;
using Notify.AppHost.Hosting;
using Notify.Tests.Testing;

namespace Notify.Tests.AppHost;

/// <summary>The AppHost's graph started in the test process through the testing host.</summary>
public sealed class OrchestratorTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task StartAsync_WholeGraph_EveryResourceHealthyAndEveryServiceAnswersHealthAndAlive()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Notify_AppHost>(ct);

        await app.StartAsync(ct);

        var states = app.GetStates();
        Assert.Equal(["redis", "mongo", "realtime-0", "realtime-1", "api", "worker"], states.Select(s => s.Name));
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
    public async Task DisposeAsync_AfterReplicaCrashAndRestart_NoStartedProcessLives()
    {
        var ct = TestContext.Current.CancellationToken;
        var app = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Notify_AppHost>(o => o.WithReplicas("realtime", 2), ct);
        List<ProcessTable.ProcessIdentity> started;
        try
        {
            await app.StartAsync(ct);
            var crashed = app.GetProcessId("realtime", 1);

            await app.KillReplicaAsync("realtime", 1);
            await app.WaitForResourceHealthyAsync("realtime", 1, ct).WaitAsync(Deadline, ct);

            Assert.NotEqual(crashed, app.GetProcessId("realtime", 1));
            Assert.Contains(app.GetLogs("apphost"), l => l.Contains("realtime-1 exited unexpectedly", StringComparison.Ordinal));
            using var http = app.CreateHttpClient("realtime", 1);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health", ct)).StatusCode);
            Assert.Equal(6, app.GetProcessIds().Count); // redis, 2 realtime, api, worker, and the restarted realtime-1
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
}
