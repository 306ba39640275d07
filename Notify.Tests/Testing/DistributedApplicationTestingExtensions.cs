using Notify.AppHost.Hosting;

namespace Notify.Tests.Testing;

/// <summary>What a test does with a started graph: reach resources, and stop, kill or restart one replica.</summary>
public static class DistributedApplicationTestingExtensions
{
    /// <summary>An <see cref="HttpClient"/> whose base address is the resource's HTTP endpoint (replica <paramref name="replica"/>).</summary>
    public static HttpClient CreateHttpClient(this DistributedApplication app, string resource, int replica = 0) =>
        new() { BaseAddress = app.GetEndpoint(resource, replica), Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>The HTTP base address of a project replica, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public static Uri GetEndpoint(this DistributedApplication app, string resource, int replica = 0) =>
        Instance(app, resource, replica).Url ?? throw new ArgumentException($"'{resource}' has no HTTP endpoint.", nameof(resource));

    /// <summary>How many replicas of <paramref name="resource"/> run.</summary>
    public static int GetReplicaCount(this DistributedApplication app, string resource) =>
        Orchestrator(app).Instances.Count(i => string.Equals(i.Resource.Name, resource, StringComparison.OrdinalIgnoreCase));

    /// <summary>The connection string the services got for <paramref name="resource"/> (<c>redis</c>, <c>notifydb</c>); null when it does not run.</summary>
    public static string? GetConnectionString(this DistributedApplication app, string resource) =>
        app.Resources.OfType<IResourceWithConnectionString>().First(r => string.Equals(r.Name, resource, StringComparison.OrdinalIgnoreCase)).ConnectionString;

    /// <summary>The SQLite file the services share when no MongoDB runs.</summary>
    public static string? GetSqlitePath(this DistributedApplication app) => Orchestrator(app).SqlitePath;

    /// <summary>The resolved value of a parameter, e.g. <c>auth-signing-key</c>.</summary>
    public static string GetParameterValue(this DistributedApplication app, string name) =>
        app.Resources.OfType<ParameterResource>().First(p => p.Name == name).Value;

    public static ResourceState GetState(this DistributedApplication app, string resource, int replica = 0) =>
        Instance(app, resource, replica).State;

    /// <summary>Every (resource instance, state) pair, e.g. <c>("realtime-1", Healthy)</c>.</summary>
    public static IReadOnlyList<(string Name, ResourceState State)> GetStates(this DistributedApplication app) =>
        [.. Orchestrator(app).Instances.Select(i => (i.Name, i.State))];

    /// <summary>The pid of the replica's current process.</summary>
    public static int GetProcessId(this DistributedApplication app, string resource, int replica = 0) =>
        Instance(app, resource, replica).ProcessIds[^1];

    /// <summary>Every pid the graph ever started (restarts included).</summary>
    public static IReadOnlyList<int> GetProcessIds(this DistributedApplication app) =>
        [.. Orchestrator(app).Instances.SelectMany(i => i.ProcessIds)];

    /// <summary>The last lines a resource instance (<c>api</c>, <c>realtime-0</c>) or the AppHost (<c>apphost</c>) wrote.</summary>
    public static IReadOnlyList<string> GetLogs(this DistributedApplication app, string instanceName) => app.Output.Recent(instanceName);

    public static Task WaitForResourceHealthyAsync(this DistributedApplication app, string resource, int replica, CancellationToken cancellationToken) =>
        Instance(app, resource, replica).WaitHealthyAsync(cancellationToken);

    /// <summary>Kills the replica's process (SIGKILL, a crash as its peers see it); the AppHost restarts it after the restart delay, without counting it as a crash.</summary>
    public static Task KillReplicaAsync(this DistributedApplication app, string resource, int replica) =>
        Orchestrator(app).KillAsync(Instance(app, resource, replica));

    /// <summary>Stops the replica gracefully (SIGTERM); it stays down until <see cref="StartReplicaAsync"/>.</summary>
    public static Task StopReplicaAsync(this DistributedApplication app, string resource, int replica, CancellationToken cancellationToken) =>
        Orchestrator(app).HoldAsync(Instance(app, resource, replica), cancellationToken);

    /// <summary>Starts a stopped replica again (same port, same environment) and waits until it is healthy.</summary>
    public static Task StartReplicaAsync(this DistributedApplication app, string resource, int replica, CancellationToken cancellationToken) =>
        Orchestrator(app).ResumeAsync(Instance(app, resource, replica), cancellationToken);

    private static Orchestrator Orchestrator(DistributedApplication app) =>
        app.Orchestrator ?? throw new InvalidOperationException("Start the application first (StartAsync).");

    private static ResourceInstance Instance(DistributedApplication app, string resource, int replica) =>
        Orchestrator(app).Instance(resource, replica);
}
