using System.Diagnostics;
using System.Net;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Notify.Tests.Testing;
using StackExchange.Redis;

namespace Notify.Tests.AppHost;

/// <summary>
/// <c>AppHost:Redis:Mode=sentinel</c> through Aspire's testing host: a primary, two replicas and three
/// Sentinels instead of one redis-server, the services healthy on the sentinel connection string, and a
/// stopped primary replaced while they keep running.
/// </summary>
public sealed class AppHostSentinelTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Start_SentinelMode_GraphHealthyOnTheSentinelConnectionStringAndSurvivesThePrimaryStopping()
    {
        var ct = TestContext.Current.CancellationToken;
        var builder = await NotifyApp.CreateBuilderAsync(["--AppHost:Redis:Mode=sentinel"], ct);
        await using var app = await NotifyApp.StartAsync(builder, ct);

        string[] nodes = ["redis-primary", "redis-replica1", "redis-replica2", "redis", "redis-sentinel2", "redis-sentinel3"];
        Assert.All(nodes, id => Assert.Equal(KnownResourceStates.Running, app.Snapshot(id).State?.Text));
        Assert.Equal(HealthStatus.Healthy, app.Snapshot("redis").HealthStatus);
        var connectionString = await app.GetConnectionStringAsync("redis", ct);
        Assert.Matches(@"^localhost:\d+,localhost:\d+,localhost:\d+,serviceName=notify,password=\S+$", connectionString);
        Assert.Equal(connectionString, (await app.EnvironmentOfAsync("worker"))["ConnectionStrings__redis"]);
        foreach (var project in new[] { "realtime", "worker", "api" })
        {
            using var http = app.CreateHttpClient(project, "http");
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health", ct)).StatusCode);
        }

        // The failover a developer tries: stop the primary from the dashboard; a replica takes over.
        await using var redis = await ConnectionMultiplexer.ConnectAsync(connectionString + ",abortConnect=false");
        var before = redis.GetEndPoints().Single(e => !redis.GetServer(e).IsReplica);
        await app.ExecuteAsync("redis-primary", KnownResourceCommands.StopCommand, ct);
        var watch = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await redis.GetDatabase().StringSetAsync("apphost-sentinel-" + Guid.NewGuid().ToString("N"), "after");
                if (redis.GetEndPoints().Any(e => !e.Equals(before) && redis.GetServer(e) is { IsConnected: true, IsReplica: false }))
                {
                    break;
                }
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
            }
            Assert.True(watch.Elapsed < Deadline, "no replica took over from the stopped primary");
            await Task.Delay(200, ct);
        }
        foreach (var project in new[] { "realtime", "worker", "api" })
        {
            using var http = app.CreateHttpClient(project, "http");
            while ((await http.GetAsync("/health", ct)).StatusCode != HttpStatusCode.OK)
            {
                Assert.True(watch.Elapsed < Deadline, $"{project} not healthy after the failover");
                await Task.Delay(200, ct);
            }
        }
    }
}
