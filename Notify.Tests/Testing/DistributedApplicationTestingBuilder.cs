using System.Reflection;
using Notify.AppHost.Hosting;
using Notify.Tests.Infrastructure;

namespace Notify.Tests.Testing;

/// <summary>What a test changes in the AppHost's graph before it starts.</summary>
public sealed class DistributedApplicationTestingOptions
{
    /// <summary>AppHost configuration, e.g. <c>["AppHost:MaxRestarts"] = "0"</c> or <c>["Parameters:auth-signing-key"]</c>.</summary>
    public Dictionary<string, string?> Configuration { get; } = new(StringComparer.OrdinalIgnoreCase)
    {
        // Tests mint tokens with the key every test shares.
        ["Parameters:auth-signing-key"] = TestEnvironment.SigningKey,
        ["AppHost:StartupTimeout"] = "00:01:30",
        ["AppHost:RestartDelay"] = "00:00:00.200",
        ["AppHost:StopTimeout"] = "00:00:10",
    };

    internal List<(string Resource, string Name, string Value)> Environment { get; } = [];

    internal Dictionary<string, int> Replicas { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Adds an environment variable to every replica of project <paramref name="resource"/>.</summary>
    public DistributedApplicationTestingOptions WithEnvironment(string resource, string name, string value)
    {
        Environment.Add((resource, name, value));
        return this;
    }

    /// <summary>Runs <paramref name="replicas"/> replicas of project <paramref name="resource"/> instead of the AppHost's count.</summary>
    public DistributedApplicationTestingOptions WithReplicas(string resource, int replicas)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(replicas, 1);
        Replicas[resource] = replicas;
        return this;
    }
}

/// <summary>
/// Builds the AppHost's own graph for a test, in the spirit of <c>Aspire.Hosting.Testing</c>: the AppHost's entry point
/// (its Program.cs) runs in the test process and declares the graph; the graph is returned built, not started.
/// Every resource gets a random free port; every started process is a child of the test process and dies with it.
/// <code>
/// await using var app = await DistributedApplicationTestingBuilder.CreateAsync&lt;Projects.Notify_AppHost&gt;(ct);
/// await app.StartAsync(ct);                       // every resource healthy, or throws with the culprit's last log lines
/// using var api = app.CreateHttpClient("api");
/// var replica1 = app.GetEndpoint("realtime", 1);
/// </code>
/// </summary>
public static class DistributedApplicationTestingBuilder
{
    public static Task<DistributedApplication> CreateAsync<TEntryPoint>(CancellationToken cancellationToken)
        where TEntryPoint : IProjectMetadata, new() =>
        CreateAsync<TEntryPoint>([], configure: null, cancellationToken);

    public static Task<DistributedApplication> CreateAsync<TEntryPoint>(Action<DistributedApplicationTestingOptions>? configure, CancellationToken cancellationToken)
        where TEntryPoint : IProjectMetadata, new() =>
        CreateAsync<TEntryPoint>([], configure, cancellationToken);

    public static async Task<DistributedApplication> CreateAsync<TEntryPoint>(string[] args, Action<DistributedApplicationTestingOptions>? configure, CancellationToken cancellationToken)
        where TEntryPoint : IProjectMetadata, new()
    {
        cancellationToken.ThrowIfCancellationRequested();
        var options = new DistributedApplicationTestingOptions();
        configure?.Invoke(options);
        var entryPoint = typeof(TEntryPoint).Assembly.EntryPoint
            ?? throw new InvalidOperationException($"{typeof(TEntryPoint).Assembly.GetName().Name} has no entry point.");

        var hook = new TestingHook();
        foreach (var (key, value) in options.Configuration)
        {
            hook.Configuration[key] = value;
        }
        var previous = TestingHook.Current.Value;
        TestingHook.Current.Value = hook;
        try
        {
            var result = entryPoint.Invoke(null, entryPoint.GetParameters().Length == 0 ? null : [args]);
            if (result is Task task)
            {
                await task.WaitAsync(cancellationToken);
            }
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
        finally
        {
            TestingHook.Current.Value = previous;
        }

        var app = hook.App ?? throw new InvalidOperationException("The AppHost's entry point did not build an application.");
        foreach (var (resource, replicas) in options.Replicas)
        {
            Project(app, resource).Replicas = replicas;
        }
        foreach (var (resource, name, value) in options.Environment)
        {
            Project(app, resource).Environment.Add(new EnvironmentVariableAnnotation(name, value, null));
        }
        return app;
    }

    private static ProjectResource Project(DistributedApplication app, string name) =>
        app.Resources.OfType<ProjectResource>().FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"The AppHost has no project named '{name}'.", nameof(name));
}
