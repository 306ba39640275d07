using System.Net;
using System.Net.Sockets;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Notify.Tests.Testing;
using StackExchange.Redis;

namespace Notify.Tests.AppHost;

/// <summary><c>AppHost:Redis:Mode=cluster</c>: the whole graph on a local 3+3 Redis Cluster (one test: it is slow).</summary>
public sealed class AppHostClusterTests
{
    [Fact]
    public async Task Start_RedisModeCluster_GraphHealthyOnThreePrimariesAndThreeReplicasAndNodesStopWithIt()
    {
        var ct = TestContext.Current.CancellationToken;
        var builder = await NotifyApp.CreateBuilderAsync(["--AppHost:Redis:Mode=cluster"], ct);
        List<int> ports;
        await using (var app = await NotifyApp.StartAsync(builder, ct))
        {
            var connectionString = await app.GetConnectionStringAsync("redis", ct);
            Assert.NotNull(connectionString);
            ports = [.. connectionString.Split(',').Where(p => p.StartsWith("127.0.0.1:", StringComparison.Ordinal))
                .Select(p => int.Parse(p["127.0.0.1:".Length..], System.Globalization.CultureInfo.InvariantCulture))];
            Assert.Equal(6, ports.Count);
            foreach (var project in new[] { "realtime", "worker", "api" })
            {
                Assert.Equal(connectionString, (await app.EnvironmentOfAsync(project))["ConnectionStrings__redis"]);
            }

            await using var redis = await ConnectionMultiplexer.ConnectAsync(connectionString + ",allowAdmin=true");
            var servers = redis.GetServers();
            Assert.Equal(6, servers.Length);
            Assert.All(servers, s => Assert.Equal(ServerType.Cluster, s.ServerType));
            var nodes = ((string?)await servers[0].ExecuteAsync("CLUSTER", "NODES"))!.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(3, nodes.Count(n => n.Contains("master", StringComparison.Ordinal)));
            Assert.Equal(3, nodes.Count(n => n.Contains("slave", StringComparison.Ordinal)));
            Assert.Contains("cluster_state:ok", (string?)await servers[0].ExecuteAsync("CLUSTER", "INFO"), StringComparison.Ordinal);

            using var http = app.CreateHttpClient("api", "http");
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health", ct)).StatusCode);
        }

        // Stopping the graph stops every node: none accepts a connection any more.
        var deadline = TimeProvider.System.GetUtcNow() + TimeSpan.FromSeconds(30);
        foreach (var port in ports)
        {
            while (Accepts(port))
            {
                Assert.True(TimeProvider.System.GetUtcNow() < deadline, $"a Redis Cluster node still listens on {port} after the graph stopped");
                await Task.Delay(100, ct);
            }
        }
    }

    private static bool Accepts(int port)
    {
        using var client = new TcpClient();
        try
        {
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
