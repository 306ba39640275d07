using System.Net;
using System.Net.WebSockets;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Notify.Tests.Infrastructure;
using Notify.Tests.Testing;
using StackExchange.Redis;

namespace Notify.Tests.AppHost;

/// <summary>The AppHost's graph started by Aspire's testing host, read but not disturbed (one graph for the class).</summary>
public sealed class AppHostGraphTests(DistributedApplicationFixture system) : IClassFixture<DistributedApplicationFixture>
{
    private DistributedApplication App => system.App;

    [Fact]
    public async Task Start_WholeGraph_EveryServiceHealthyAndAnswersHealthAndAlive()
    {
        var ct = TestContext.Current.CancellationToken;

        Assert.Equal(2, App.ReplicaIds("realtime").Count);
        foreach (var service in NotifyApp.Services)
        {
            foreach (var id in App.ReplicaIds(service))
            {
                var snapshot = App.Snapshot(id);
                Assert.Equal(KnownResourceStates.Running, snapshot.State?.Text);
                Assert.Equal(HealthStatus.Healthy, snapshot.HealthStatus);
            }
        }
        foreach (var project in new[] { "realtime", "worker", "api" })
        {
            using var http = App.CreateHttpClient(project, "http");
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health", ct)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/alive", ct)).StatusCode);
        }
    }

    [Fact]
    public void Start_NoMongod_MongoShownAsNotUsedWithTheSqliteFile()
    {
        var mongo = App.Snapshot("mongo");

        Assert.Equal("Not used", mongo.State?.Text);
        Assert.Contains(mongo.Properties, p => p.Name == "notify.store" && p.Value is string s && s.StartsWith("SQLite ", StringComparison.Ordinal));
        Assert.Equal("Not used", App.Snapshot("notifydb").State?.Text);
    }

    [Fact]
    public async Task Start_ServicesEnvironment_OneRealtimeUrlSharedKeySqliteFileAndLocalSettings()
    {
        var realtimeUrl = App.GetEndpoint("realtime", "http").ToString().TrimEnd('/');
        var apiUrl = App.GetEndpoint("api", "http").ToString().TrimEnd('/');
        var sqlite = new HashSet<string>();

        foreach (var project in new[] { "realtime", "worker", "api" })
        {
            var env = await App.EnvironmentOfAsync(project);
            Assert.Equal(TestEnvironment.SigningKey, env["Auth__SigningKey"]);
            Assert.Equal("true", env["Auth__EnableDevTokens"]);
            Assert.Equal("Development", env["ASPNETCORE_ENVIRONMENT"]);
            Assert.Equal(apiUrl, env["Cors__Origins__0"]);
            Assert.Equal(await App.GetConnectionStringAsync("redis", TestContext.Current.CancellationToken), env["ConnectionStrings__redis"]);
            Assert.Contains(",password=", env["ConnectionStrings__redis"], StringComparison.Ordinal);
            Assert.False(env.ContainsKey("ConnectionStrings__notifydb"), "no MongoDB runs");
            sqlite.Add(env["Store__SqlitePath"]);
        }
        var api = await App.EnvironmentOfAsync("api");
        Assert.Equal(realtimeUrl, api["services__realtime__http__0"]);
        Assert.False(api.ContainsKey("services__realtime__http__1"), "both replicas are behind one URL");
        Assert.Single(sqlite);
    }

    [Fact]
    public async Task Redis_WithoutItsPassword_RefusesCommands()
    {
        var connectionString = await App.GetConnectionStringAsync("redis", TestContext.Current.CancellationToken) ?? throw new InvalidOperationException("no redis");
        var endpoint = connectionString[..connectionString.IndexOf(',', StringComparison.Ordinal)];

        var (host, port) = (endpoint[..endpoint.LastIndexOf(':')], int.Parse(endpoint[(endpoint.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        using var anonymous = new System.Net.Sockets.TcpClient();
        await anonymous.ConnectAsync(host, port, TestContext.Current.CancellationToken);
        var stream = anonymous.GetStream();
        await stream.WriteAsync("PING\r\n"u8.ToArray(), TestContext.Current.CancellationToken);
        var buffer = new byte[256];
        var read = await stream.ReadAsync(buffer, TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.StartsWith("-NOAUTH", System.Text.Encoding.ASCII.GetString(buffer, 0, read), StringComparison.Ordinal);
        await using var authorized = await ConnectionMultiplexer.ConnectAsync(connectionString);
        Assert.Equal("yes", (await authorized.GetServers()[0].ExecuteAsync("CONFIG", "GET", "appendonly")).ToDictionary()["appendonly"]?.ToString());
    }

    [Fact]
    public void Start_DependencyOrder_EachServiceStartsOnlyAfterWhatItWaitsForIsHealthy()
    {
        var events = App.Events().ToList();
        int FirstHealthy(string id) => events.FindIndex(e => e.ResourceId == id && e.Snapshot.HealthStatus == HealthStatus.Healthy);
        int FirstStarted(string id) => events.FindIndex(e => e.ResourceId == id && e.Snapshot.StartTimeStamp is not null);

        foreach (var (dependent, dependencies) in new[]
        {
            ("realtime", new[] { "redis" }),
            ("worker", new[] { "redis" }),
            ("api", new[] { "redis", "realtime", "worker" }),
        })
        {
            foreach (var id in App.ReplicaIds(dependent))
            {
                var started = FirstStarted(id);
                Assert.True(started >= 0, $"{id} never started");
                foreach (var dependencyId in dependencies.SelectMany(App.ReplicaIds))
                {
                    var healthy = FirstHealthy(dependencyId);
                    Assert.True(healthy >= 0 && healthy < started, $"{id} started (event {started}) before {dependencyId} was healthy (event {healthy})");
                }
            }
        }
    }
}

/// <summary>The graph under faults: each test starts its own and disturbs it.</summary>
public sealed class AppHostFaultTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task RealtimeReplicaKilled_ReportedAndClientsReconnectThroughTheSameUrl_ThenStartedAgain()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = await NotifyApp.StartAsync(ct);
        var realtime = app.GetEndpoint("realtime", "http");
        var victim = app.ReplicaIds("realtime")[0];
        var pid = app.ProcessId(victim) ?? throw new InvalidOperationException("no pid");

        Assert.Equal(0, Signals.Kill(pid, Signals.SigKill));

        var exited = await app.WaitForReplicaAsync("realtime", victim, e => e.Snapshot.State?.Text is "Exited" or "Finished" or "FailedToStart", ct).WaitAsync(Deadline, ct);
        Assert.NotNull(exited.Snapshot.ExitCode);
        // Ten connections through the one URL: every one reaches the surviving replica.
        var token = await DevTokenAsync(app, "replica-killed", ct);
        for (var i = 0; i < 10; i++)
        {
            using var socket = new ClientWebSocket();
            await socket.ConnectAsync(new Uri($"ws://{realtime.Authority}/api/ws/notifications?token={token}"), ct).WaitAsync(Deadline, ct);
            var buffer = new byte[4096];
            var first = await socket.ReceiveAsync(buffer, ct).WaitAsync(Deadline, ct);
            Assert.Contains("\"connected\"", System.Text.Encoding.UTF8.GetString(buffer, 0, first.Count), StringComparison.Ordinal);
        }

        await app.ExecuteAsync(victim, KnownResourceCommands.StartCommand, ct);

        await app.WaitForReplicaAsync("realtime", victim, e => e.Snapshot.State?.Text == KnownResourceStates.Running && e.Snapshot.HealthStatus == HealthStatus.Healthy, ct).WaitAsync(Deadline, ct);
        Assert.NotEqual(pid, app.ProcessId(victim));
    }

    [Fact]
    public async Task RedisKilledAndStartedAgain_KeepsItsDataOnTheSamePortAndServicesRecover()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = await NotifyApp.StartAsync(ct);
        var connectionString = await app.GetConnectionStringAsync("redis", ct);
        var key = $"apphost-test-{Guid.NewGuid():N}";
        await using (var redis = await ConnectionMultiplexer.ConnectAsync(connectionString!))
        {
            // Every write reaches the append-only file before the kill.
            await redis.GetServers()[0].ExecuteAsync("CONFIG", "SET", "appendfsync", "always");
            await redis.GetDatabase().StringSetAsync(key, "kept");
        }
        var id = app.ReplicaIds("redis")[0];

        Assert.Equal(0, Signals.Kill(app.ProcessId(id)!.Value, Signals.SigKill));
        await app.WaitForReplicaAsync("redis", id, e => e.Snapshot.State?.Text is "Exited" or "Finished", ct).WaitAsync(Deadline, ct);
        await app.ExecuteAsync(id, KnownResourceCommands.StartCommand, ct);
        await app.WaitForReplicaAsync("redis", id, e => e.Snapshot.State?.Text == KnownResourceStates.Running && e.Snapshot.HealthStatus == HealthStatus.Healthy, ct).WaitAsync(Deadline, ct);

        Assert.Equal(connectionString, await app.GetConnectionStringAsync("redis", ct));
        await using (var redis = await ConnectionMultiplexer.ConnectAsync(connectionString!))
        {
            Assert.Equal("kept", (string?)await redis.GetDatabase().StringGetAsync(key));
        }
        foreach (var project in new[] { "api", "worker", "realtime" })
        {
            using var http = app.CreateHttpClient(project, "http");
            await HealthyAsync(http, ct).WaitAsync(Deadline, ct);
        }
    }

    [Fact]
    public async Task Start_WithConnectionStringsRedis_UsesThatRedisAndStartsNoRedisServer()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var external = new RedisServer();
        await external.InitializeAsync();
        var builder = await NotifyApp.CreateBuilderAsync([$"--ConnectionStrings:redis={external.ConnectionString}"], ct);
        await using var app = await NotifyApp.StartAsync(builder, ct, "realtime", "worker", "api");

        Assert.Equal(external.ConnectionString, await app.GetConnectionStringAsync("redis", ct));
        Assert.Null(app.ProcessId("redis"));
        Assert.Equal(external.ConnectionString, (await app.EnvironmentOfAsync("worker"))["ConnectionStrings__redis"]);
        using var http = app.CreateHttpClient("api", "http");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health", ct)).StatusCode);
    }

    [Fact]
    public async Task DisposeAsync_AfterAReplicaWasRestarted_NoStartedProcessLives()
    {
        var ct = TestContext.Current.CancellationToken;
        var app = await NotifyApp.StartAsync(ct);
        var started = new List<ProcessTable.ProcessIdentity>();
        try
        {
            foreach (var service in NotifyApp.Services)
            {
                foreach (var id in app.ReplicaIds(service))
                {
                    started.Add(ProcessTable.Identify(app.ProcessId(id)!.Value)!.Value);
                }
            }
            Assert.Equal(5, started.Count); // redis-server, 2 realtime, worker, api
            var victim = app.ReplicaIds("realtime")[1];
            var before = app.ProcessId(victim);
            await app.ExecuteAsync(victim, KnownResourceCommands.RestartCommand, ct);
            // The current snapshot may still be the old, healthy one: wait for the new process.
            await WaitUntilAsync(() => app.ProcessId(victim) is { } pid && pid != before && app.Snapshot(victim).HealthStatus == HealthStatus.Healthy, ct).WaitAsync(Deadline, ct);
            var restarted = app.ProcessId(victim);
            Assert.NotNull(restarted);
            started.Add(ProcessTable.Identify(restarted.Value)!.Value);
        }
        finally
        {
            await app.DisposeAsync();
        }

        Assert.Empty(await ProcessTable.WaitAllExitedAsync(started, TimeSpan.FromSeconds(30)));
    }

    private static async Task WaitUntilAsync(Func<bool> condition, CancellationToken ct)
    {
        while (!condition())
        {
            await Task.Delay(100, ct);
        }
    }

    private static async Task HealthyAsync(HttpClient http, CancellationToken ct)
    {
        while (true)
        {
            try
            {
                if ((await http.GetAsync("/health", ct)).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100, ct);
        }
    }

    private static async Task<string> DevTokenAsync(DistributedApplication app, string user, CancellationToken ct)
    {
        using var api = app.CreateHttpClient("api", "http");
        using var response = await api.PostAsync("/api/auth/dev-token", new StringContent($$"""{"user_id":"{{user}}"}""", System.Text.Encoding.UTF8, "application/json"), ct);
        response.EnsureSuccessStatusCode();
        return System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync(ct))!["token"]!.GetValue<string>();
    }
}
