using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Notify.Tests.Infrastructure;

namespace Notify.Tests.Testing;

/// <summary>
/// The real AppHost's graph (Notify.AppHost's Program.cs) started by Aspire's testing host, as the tests want it:
/// the tests' signing key, SQLite instead of a local mongod, no OTLP export (nothing listens; disposal would wait
/// for the exporter). DCP runs every process; ports are random, so it never clashes with a running AppHost.
/// </summary>
public static class NotifyApp
{
    /// <summary>How long a whole graph may take to become healthy on a loaded 2-core machine.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    /// <summary>The resources of the graph that run processes, in the order the AppHost declares them.</summary>
    public static readonly string[] Services = ["redis", "realtime", "worker", "api"];

    public static async Task<IDistributedApplicationTestingBuilder> CreateBuilderAsync(string[]? args = null, CancellationToken cancellationToken = default)
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Notify_AppHost>(
            ["--AppHost:UseMongod=false", .. args ?? []], cancellationToken);
        builder.Configuration["Parameters:auth-signing-key"] = TestEnvironment.SigningKey;
        foreach (var project in builder.Resources.OfType<ProjectResource>().ToList())
        {
            builder.CreateResourceBuilder(project).WithEnvironment("OTEL_SDK_DISABLED", "true");
        }
        return builder;
    }

    private static readonly ConditionalWeakTable<DistributedApplication, ConcurrentQueue<ResourceEvent>> Recorded = [];

    /// <summary>
    /// Builds and starts the graph and waits until every replica of every service is healthy; disposes it on failure.
    /// Every resource event is recorded from before the start (<see cref="Events"/>).
    /// </summary>
    public static async Task<DistributedApplication> StartAsync(IDistributedApplicationTestingBuilder builder, CancellationToken cancellationToken, params string[] awaited)
    {
        awaited = awaited is [] ? Services : awaited;
        var app = await builder.BuildAsync(cancellationToken);
        var events = Recorded.GetValue(app, _ => new ConcurrentQueue<ResourceEvent>());
        var stopping = app.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        _ = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in app.ResourceNotifications.WatchAsync(stopping))
                {
                    events.Enqueue(e);
                }
            }
            catch (OperationCanceledException)
            {
            }
        }, CancellationToken.None);
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(StartTimeout);
            await app.StartAsync(deadline.Token);
            while (!awaited.All(service => AllReplicasHealthy(app, service)))
            {
                await Task.Delay(50, deadline.Token);
            }
            return app;
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>Every resource event of <paramref name="app"/> in publication order, from before its start.</summary>
    public static IReadOnlyList<ResourceEvent> Events(this DistributedApplication app) =>
        Recorded.TryGetValue(app, out var events) ? [.. events] : [];

    private static bool AllReplicasHealthy(DistributedApplication app, string service)
    {
        var ids = app.ReplicaIds(service);
        var expected = Model(app).Resources.Single(r => r.Name == service).Annotations.OfType<ReplicaAnnotation>().LastOrDefault()?.Replicas ?? 1;
        return ids.Count == expected && ids.All(id => app.Snapshot(id).HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy);
    }

    public static async Task<DistributedApplication> StartAsync(CancellationToken cancellationToken) =>
        await StartAsync(await CreateBuilderAsync(cancellationToken: cancellationToken), cancellationToken);

    /// <summary>The ids DCP gave the resource's instances (<c>realtime-abcd1234</c>, ...), one per replica.</summary>
    public static IReadOnlyList<string> ReplicaIds(this DistributedApplication app, string resource) =>
        [.. app.Events().Where(e => e.Resource.Name == resource).Select(e => e.ResourceId).Distinct().Order(StringComparer.Ordinal)];

    /// <summary>Waits until the instance <paramref name="id"/> of <paramref name="resource"/> satisfies <paramref name="predicate"/>.</summary>
    public static Task<ResourceEvent> WaitForReplicaAsync(this DistributedApplication app, string resource, string id, Func<ResourceEvent, bool> predicate, CancellationToken cancellationToken) =>
        app.ResourceNotifications.WaitForResourceAsync(resource, e => e.ResourceId == id && predicate(e), cancellationToken);

    /// <summary>The current snapshot of instance <paramref name="id"/>.</summary>
    public static CustomResourceSnapshot Snapshot(this DistributedApplication app, string id) =>
        app.ResourceNotifications.TryGetCurrentState(id, out var e) ? e.Snapshot : throw new ArgumentException($"No resource instance '{id}'.", nameof(id));

    /// <summary>
    /// The pid of the program DCP runs for instance <paramref name="id"/>, or null while none runs. DCP starts a project
    /// as <c>dotnet run --no-build</c>, whose one child is the service itself: that child's pid is returned.
    /// </summary>
    public static int? ProcessId(this DistributedApplication app, string id)
    {
        int? launched = app.Snapshot(id).Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value switch
        {
            int pid => pid,
            long pid => (int)pid,
            string text when int.TryParse(text, out var pid) => pid,
            _ => null,
        };
        return launched is { } wrapper && ProcessTable.CommandLine(wrapper) is [_, "run", ..]
            ? ProcessTable.ChildrenOf(wrapper).Select(c => (int?)c.Pid).FirstOrDefault()
            : launched;
    }

    /// <summary>Runs a dashboard command (<see cref="KnownResourceCommands"/>) on one instance and fails when it does.</summary>
    public static async Task ExecuteAsync(this DistributedApplication app, string id, string command, CancellationToken cancellationToken)
    {
        var result = await app.Services.GetRequiredService<ResourceCommandService>().ExecuteCommandAsync(id, command, cancellationToken);
        Assert.True(result.Success, $"{command} {id}: {result.Message}");
    }

    /// <summary>The environment the AppHost gives a project (the first replica's, with endpoints resolved).</summary>
    public static async Task<Dictionary<string, string>> EnvironmentOfAsync(this DistributedApplication app, string project)
    {
        var resource = Model(app).Resources.Single(r => r.Name == project);
        var configuration = await ExecutionConfigurationBuilder.Create(resource).WithEnvironmentVariablesConfig().BuildAsync(
            app.Services.GetRequiredService<DistributedApplicationExecutionContext>(), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, CancellationToken.None);
        return configuration.EnvironmentVariables.ToDictionary(e => e.Key, e => e.Value ?? "");
    }

    private static DistributedApplicationModel Model(DistributedApplication app) => app.Services.GetRequiredService<DistributedApplicationModel>();
}
