using Notify.Tests.Infrastructure;
using Notify.Tests.Realtime;

namespace Notify.Tests.Cluster;

/// <summary>
/// The delivery path on a Redis Cluster (3 primaries, 3 replicas): one Api and two Realtime instances as real
/// processes, one SQLite file. Tests share the processes but never data: each uses its own users and channels.
/// </summary>
public sealed class ClusterDeployment : IAsyncLifetime
{
    public const string ApiKey = "cluster-tests-api-key-0123456789abcdef";

    private readonly string _sqlitePath = RealtimeHost.NewSqlitePath();
    private readonly List<ServiceProcess> _services = [];

    public RedisCluster Redis { get; } = new();
    internal ServiceProcess A { get; private set; } = null!;
    internal ServiceProcess B { get; private set; } = null!;
    internal ServiceProcess Api { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        await Redis.InitializeAsync();
        var a = RealtimeHost.StartAsync(Redis, _sqlitePath);
        var b = RealtimeHost.StartAsync(Redis, _sqlitePath);
        var api = ServiceProcess.StartAsync("Notify.Api", new Dictionary<string, string?>(TestEnvironment.For(Redis, _sqlitePath))
        {
            ["Auth__ApiKeys__cluster"] = ApiKey,
        });
        Task<ServiceProcess>[] starting = [a, b, api];
        try
        {
            await Task.WhenAll(starting);
        }
        finally
        {
            // Whatever started is stopped on dispose, also when another one failed to start.
            _services.AddRange(starting.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result));
        }
        (A, B, Api) = (a.Result, b.Result, api.Result);
        Http = new HttpClient { BaseAddress = Api.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        Http.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
    }

    public async ValueTask DisposeAsync()
    {
        Http?.Dispose();
        foreach (var service in _services)
        {
            await service.DisposeAsync();
        }
        await Redis.DisposeAsync();
        TestEnvironment.DeleteSqliteFiles(_sqlitePath);
    }
}
