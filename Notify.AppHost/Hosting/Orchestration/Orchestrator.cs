using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;

namespace Notify.AppHost.Hosting;

/// <summary>
/// Runs the graph locally: resolves parameters and ports, starts <c>redis-server</c> (and <c>mongod</c> when present),
/// starts every project replica once what it waits for is healthy, restarts crashed children with backoff, and
/// stops everything (projects first, then the servers) on shutdown or on a failed start.
/// </summary>
internal sealed class Orchestrator : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<Orchestrator, byte> Running = new();
    private static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxRestartDelay = TimeSpan.FromSeconds(30);

    /// <summary>A child that ran this long before exiting has its restarts-in-a-row count reset.</summary>
    private static readonly TimeSpan StableRun = TimeSpan.FromMinutes(1);

    private readonly IReadOnlyList<IResource> _resources;
    private readonly AppHostOptions _options;
    private readonly IConfiguration _configuration;
    private readonly AppHostOutput _output;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<ResourceInstance> _instances = [];
    private readonly List<Task> _supervisors = [];
    private readonly Lazy<Task> _stop;
    private string? _dataDirectory;

    static Orchestrator()
    {
        // Children are tied to this process by the kernel where possible (ProcessLauncher); this covers the rest.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var orchestrator in Running.Keys)
            {
                orchestrator.KillAll();
            }
        };
    }

    public Orchestrator(IReadOnlyList<IResource> resources, AppHostOptions options, IConfiguration configuration, AppHostOutput output)
    {
        _resources = resources;
        _options = options;
        _configuration = configuration;
        _output = output;
        _stop = new Lazy<Task>(StopCoreAsync);
    }

    public IReadOnlyList<ResourceInstance> Instances => _instances;

    /// <summary>The SQLite file the services share when no MongoDB runs; null when MongoDB runs.</summary>
    public string? SqlitePath { get; private set; }

    /// <summary>Temp folder of this run (Redis and MongoDB data, the SQLite file); deleted at stop.</summary>
    public string? DataDirectory => _dataDirectory;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Running[this] = 0;
        try
        {
            await PrepareAsync(cancellationToken);
            foreach (var instance in _instances)
            {
                _supervisors.Add(Task.Run(() => SuperviseAsync(instance, _stopping.Token), CancellationToken.None));
            }
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(_options.StartupTimeout);
            try
            {
                // One at a time as they come, so a resource that fails for good ends the start at once.
                var pending = _instances.Select(i => i.WaitHealthyAsync(deadline.Token)).ToList();
                while (pending.Count > 0)
                {
                    var done = await Task.WhenAny(pending);
                    pending.Remove(done);
                    await done;
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                var late = _instances.First(i => !i.WaitHealthyAsync(CancellationToken.None).IsCompletedSuccessfully);
                throw new AppHostException(
                    $"{late.Name} was not healthy within {_options.StartupTimeout} (state {late.State}); stopping everything.{LastLines(late)}");
            }
        }
        catch
        {
            await StopAsync(CancellationToken.None);
            throw;
        }
    }

    /// <summary>Stops every child (projects first, SIGTERM then SIGKILL after the stop timeout) and deletes the run's temp folder.</summary>
    public Task StopAsync(CancellationToken cancellationToken) => _stop.Value.WaitAsync(cancellationToken);

    // The stopping source is not disposed: a late signal or the process-exit hook may still cancel it.
    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None);

    /// <summary>Kills every child at once (a second Ctrl+C, or this process exiting).</summary>
    public void KillAll()
    {
        _stopping.Cancel();
        foreach (var instance in _instances)
        {
            instance.CurrentProcess()?.Kill();
        }
    }

    /// <summary>The instance of <paramref name="resource"/> (replica <paramref name="replica"/> of a project).</summary>
    public ResourceInstance Instance(string resource, int replica = 0) =>
        _instances.FirstOrDefault(i => string.Equals(i.Resource.Name, resource, StringComparison.OrdinalIgnoreCase) && i.Replica == replica)
        ?? throw new ArgumentException($"No resource '{resource}' replica {replica}; there are: {string.Join(", ", _instances.Select(i => i.Name))}.", nameof(resource));

    /// <summary>Kills the instance's process, as a crash would; the supervisor restarts it after <see cref="AppHostOptions.RestartDelay"/> (not counted as a crash).</summary>
    public async Task KillAsync(ResourceInstance instance)
    {
        if (instance.CurrentProcess() is { HasExited: false } child)
        {
            instance.ResetHealth();
            instance.KillRequested = true;
            child.Kill();
            await child.Exited;
        }
    }

    /// <summary>Stops the instance gracefully (SIGTERM); it stays down until <see cref="ResumeAsync"/>.</summary>
    public async Task HoldAsync(ResourceInstance instance, CancellationToken cancellationToken)
    {
        instance.Held = true;
        if (instance.CurrentProcess() is { HasExited: false } child)
        {
            instance.ResetHealth();
            await child.StopAsync(_options.StopTimeout).WaitAsync(cancellationToken);
        }
        instance.State = ResourceState.Stopped;
    }

    /// <summary>Starts a held (or failed) instance again and waits until it is healthy.</summary>
    public async Task ResumeAsync(ResourceInstance instance, CancellationToken cancellationToken)
    {
        instance.Resume();
        await instance.WaitHealthyAsync(cancellationToken);
    }

    private async Task PrepareAsync(CancellationToken cancellationToken)
    {
        SweepStaleDataDirectories();
        _dataDirectory = Directory.CreateTempSubdirectory("notify-apphost-").FullName;
        await File.WriteAllTextAsync(Path.Combine(_dataDirectory, "apphost.pid"), Environment.ProcessId.ToString(CultureInfo.InvariantCulture), cancellationToken);

        foreach (var parameter in _resources.OfType<ParameterResource>())
        {
            parameter.Value = _configuration[$"Parameters:{parameter.Name}"] is { Length: > 0 } configured
                ? configured
                : parameter.Generate is { } generate
                    ? RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", generate.MinLength)
                    : throw new AppHostException($"Parameter '{parameter.Name}' has no value: set Parameters__{parameter.Name}.");
        }

        var ports = new PortAllocator();
        try
        {
            foreach (var resource in _resources)
            {
                switch (resource)
                {
                    case RedisResource redis:
                        await AddRedisAsync(redis, ports, cancellationToken);
                        break;
                    case MongoDBServerResource mongo:
                        AddMongo(mongo, ports);
                        break;
                    case MongoDBDatabaseResource database:
                        database.ExternalConnectionString = _configuration.GetConnectionString(database.Name);
                        break;
                    case ProjectResource project:
                        project.Ports = [.. Enumerable.Range(0, project.Replicas).Select(_ => ports.Next())];
                        break;
                    default:
                        break;
                }
            }
        }
        finally
        {
            ports.Release();
        }

        if (_resources.OfType<MongoDBDatabaseResource>().Any(d => d.ConnectionString is null))
        {
            SqlitePath = Path.GetFullPath(_options.SqlitePath ?? Path.Combine(_dataDirectory, "notify.db"));
            foreach (var skipped in _instances.Where(i => i.State == ResourceState.Skipped))
            {
                skipped.Note += $" {SqlitePath}";
                _output.Info($"{skipped.Name}: {skipped.Note}");
            }
        }
        foreach (var project in _resources.OfType<ProjectResource>())
        {
            AddProject(project);
        }
    }

    private async Task AddRedisAsync(RedisResource redis, PortAllocator ports, CancellationToken cancellationToken)
    {
        if (_configuration.GetConnectionString(redis.Name) is { Length: > 0 } external)
        {
            redis.ExternalConnectionString = external;
            _instances.Add(new ResourceInstance(redis.Name, redis, 0)
            {
                State = ResourceState.External,
                Endpoint = external.Split(',')[0],
                Note = $"existing Redis from ConnectionStrings__{redis.Name}",
                Probe = ct => HealthProbes.RedisAsync(external, ct),
            });
            return;
        }

        var redisServer = await Prerequisites.RedisServerAsync(_options, _output, cancellationToken);
        redis.Port = ports.Next();
        var directory = Directory.CreateDirectory(Path.Combine(_dataDirectory!, redis.Name)).FullName;
        var config = Path.Combine(directory, "redis.conf");
        await File.WriteAllLinesAsync(config,
        [
            $"port {redis.Port.ToString(CultureInfo.InvariantCulture)}",
            "bind 127.0.0.1",
            "protected-mode yes",
            // In the config file, not on the command line, so the password does not show in ps.
            $"requirepass {redis.PasswordParameter.Value}",
            "save \"\"",
            "appendonly no",
            $"dir \"{directory}\"",
            "daemonize no",
            "logfile \"\"",
        ], cancellationToken);
        var connectionString = redis.ConnectionString!;
        _instances.Add(new ResourceInstance(redis.Name, redis, 0)
        {
            Endpoint = string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{redis.Port}"),
            Note = $"{redisServer}, data in {directory}",
            StartInfo = () => new ProcessStartInfo(redisServer) { ArgumentList = { config }, WorkingDirectory = directory },
            Probe = ct => HealthProbes.RedisAsync(connectionString, ct),
        });
    }

    private void AddMongo(MongoDBServerResource mongo, PortAllocator ports)
    {
        if (_configuration.GetConnectionString(mongo.Name) is { Length: > 0 } external)
        {
            mongo.ExternalConnectionString = external;
            _instances.Add(new ResourceInstance(mongo.Name, mongo, 0)
            {
                State = ResourceState.External,
                Note = $"existing MongoDB from ConnectionStrings__{mongo.Name}",
                Probe = _ => Task.FromResult(true),
            });
            return;
        }

        var mongod = _options.UseMongod ? Prerequisites.FindOnPath("mongod") : null;
        if (mongod is null)
        {
            _instances.Add(new ResourceInstance(mongo.Name, mongo, 0)
            {
                State = ResourceState.Skipped,
                Note = _options.UseMongod ? "mongod is not on PATH: the services share the SQLite store" : "AppHost:UseMongod is false: the services share the SQLite store",
                Probe = _ => Task.FromResult(true),
            });
            return;
        }

        mongo.Port = ports.Next();
        var directory = Directory.CreateDirectory(Path.Combine(_dataDirectory!, mongo.Name)).FullName;
        var port = mongo.Port;
        _instances.Add(new ResourceInstance(mongo.Name, mongo, 0)
        {
            Endpoint = string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{port}"),
            Note = $"{mongod}, data in {directory}",
            StartInfo = () => new ProcessStartInfo(mongod)
            {
                ArgumentList = { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind_ip", "127.0.0.1", "--dbpath", directory, "--quiet" },
                WorkingDirectory = directory,
            },
            Probe = ct => HealthProbes.TcpAsync("127.0.0.1", port, ct),
        });
    }

    private void AddProject(ProjectResource project)
    {
        var projectDirectory = Path.GetDirectoryName(project.Metadata.ProjectPath)!;
        var assembly = Path.GetFileNameWithoutExtension(project.Metadata.ProjectPath);
        var configuration = _options.Configuration ?? BuildConfiguration;
        var dll = Path.Combine(projectDirectory, "bin", configuration, "net10.0", assembly + ".dll");
        if (!File.Exists(dll))
        {
            throw new AppHostException($"{assembly} is not built ({dll} is missing): run 'dotnet build -c {configuration}' first.");
        }
        var dotnet = Prerequisites.DotnetHost();
        for (var replica = 0; replica < project.Replicas; replica++)
        {
            var name = project.Replicas == 1 ? project.Name : string.Create(CultureInfo.InvariantCulture, $"{project.Name}-{replica}");
            var url = project.ReplicaUrl(replica);
            var index = replica;
            _instances.Add(new ResourceInstance(name, project, replica)
            {
                Url = url,
                StartInfo = () =>
                {
                    // Aspire runs a project from its project folder: content root, appsettings.json and wwwroot are found there.
                    var startInfo = new ProcessStartInfo(dotnet) { ArgumentList = { dll }, WorkingDirectory = projectDirectory };
                    foreach (var (key, value) in RunEnvironment(project, index, name))
                    {
                        startInfo.Environment[key] = value;
                    }
                    return startInfo;
                },
                Probe = ct => HealthProbes.HttpAsync(new Uri(url, "/health"), ct),
            });
        }
    }

    /// <summary>The environment of one project replica: Aspire's variables for a local run, then references and variables as declared.</summary>
    internal IEnumerable<(string Name, string Value)> RunEnvironment(ProjectResource project, int replica, string instanceName)
    {
        yield return ("ASPNETCORE_URLS", project.ReplicaUrl(replica).ToString().TrimEnd('/'));
        yield return ("ASPNETCORE_ENVIRONMENT", _options.Environment);
        yield return ("OTEL_SERVICE_NAME", project.Name);
        yield return ("OTEL_RESOURCE_ATTRIBUTES", $"service.instance.id={instanceName}");
        yield return ("OTEL_DOTNET_EXPERIMENTAL_OTLP_EMIT_EXCEPTION_LOG_ATTRIBUTES", "true");
        yield return ("OTEL_DOTNET_EXPERIMENTAL_OTLP_EMIT_EVENT_LOG_ATTRIBUTES", "true");
        yield return ("OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY", "in_memory");
        // One line per log entry, so the prefixed stream stays readable.
        yield return ("Logging__Console__FormatterName", "simple");
        yield return ("Logging__Console__FormatterOptions__SingleLine", "true");
        foreach (var annotation in project.Environment)
        {
            switch (annotation)
            {
                case ReferenceAnnotation { Target: MongoDBDatabaseResource { ConnectionString: null } }:
                    yield return ("Store__SqlitePath", SqlitePath!);
                    break;
                case ReferenceAnnotation { Target: IResourceWithConnectionString target }:
                    yield return ($"ConnectionStrings__{target.Name}", target.ConnectionString!);
                    break;
                case ReferenceAnnotation { Target: ProjectResource target }:
                    for (var i = 0; i < target.Replicas; i++)
                    {
                        yield return (string.Create(CultureInfo.InvariantCulture, $"services__{target.Name}__http__{i}"), target.ReplicaUrl(i).ToString().TrimEnd('/'));
                    }
                    break;
                case EnvironmentVariableAnnotation variable:
                    yield return (variable.Name, variable.Provider?.GetValue() ?? variable.Literal ?? "");
                    break;
                default:
                    throw new NotSupportedException($"Environment entry {annotation} of '{project.Name}' cannot run.");
            }
        }
    }

    private async Task SuperviseAsync(ResourceInstance instance, CancellationToken stopping)
    {
        try
        {
            if (instance.StartInfo is null)
            {
                while (!await instance.Probe(stopping))
                {
                    await Task.Delay(ProbeInterval, stopping);
                }
                instance.MarkHealthy(instance.State);
                return;
            }

            await WaitForDependenciesAsync(instance, stopping);
            var inARow = 0;
            while (!stopping.IsCancellationRequested)
            {
                if (instance.Held)
                {
                    await instance.WaitResumeAsync(stopping);
                    continue;
                }
                var ran = Stopwatch.StartNew();
                ChildProcess? child;
                try
                {
                    child = instance.StartProcess(stopping, line => _output.ResourceLine(instance.Name, line));
                }
                catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
                {
                    instance.Held = true;
                    instance.MarkFailed($"{instance.Name} could not start: {e.Message}");
                    _output.Error($"{instance.Name} could not start: {e.Message}");
                    continue;
                }
                if (child is null)
                {
                    return;
                }
                _ = WatchHealthAsync(instance, child, inARow > 0, stopping);
                var exitCode = await child.Exited.WaitAsync(stopping);
                instance.ResetHealth();
                if (stopping.IsCancellationRequested)
                {
                    return;
                }
                if (instance.Held)
                {
                    instance.State = ResourceState.Stopped;
                    _output.Info($"{instance.Name} stopped (exit code {exitCode})");
                    continue;
                }
                if (instance.KillRequested)
                {
                    // Killed on purpose (the testing host's crash): restarted, but not counted as a crash.
                    instance.KillRequested = false;
                    instance.State = ResourceState.Restarting;
                    _output.Info($"{instance.Name} was killed (exit code {exitCode}); restarting in {_options.RestartDelay.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s");
                    await Task.Delay(_options.RestartDelay, stopping);
                    continue;
                }
                inARow = ran.Elapsed > StableRun ? 1 : inARow + 1;
                if (inARow > _options.MaxRestarts)
                {
                    instance.Held = true;
                    instance.MarkFailed($"{instance.Name} exited with code {exitCode} and crashed {inARow} times in a row; not restarting it.{LastLines(instance)}");
                    _output.Error($"{instance.Name} exited with code {exitCode} and crashed {inARow} times in a row; not restarting it");
                    continue;
                }
                var delay = TimeSpan.FromTicks(Math.Min(MaxRestartDelay.Ticks, _options.RestartDelay.Ticks << Math.Min(inARow - 1, 20)));
                instance.State = ResourceState.Restarting;
                _output.Info($"{instance.Name} exited unexpectedly with code {exitCode}; restarting in {delay.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s (restart {inARow} of at most {_options.MaxRestarts} in a row)");
                await Task.Delay(delay, stopping);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Shutdown.
        }
    }

    private async Task WaitForDependenciesAsync(ResourceInstance instance, CancellationToken stopping)
    {
        if (instance.Resource is not IResourceWithWaitSupport waiting)
        {
            return;
        }
        foreach (var dependency in waiting.WaitsFor)
        {
            var server = dependency is MongoDBDatabaseResource database ? database.Parent : dependency;
            foreach (var other in _instances.Where(i => i.Resource == server))
            {
                await other.WaitHealthyAsync(stopping);
            }
        }
    }

    private async Task WatchHealthAsync(ResourceInstance instance, ChildProcess child, bool restarted, CancellationToken stopping)
    {
        try
        {
            while (!child.HasExited)
            {
                if (await instance.Probe(stopping))
                {
                    if (!child.HasExited)
                    {
                        instance.MarkHealthy();
                        _output.Info(restarted ? $"{instance.Name} is healthy again (pid {child.Pid})" : $"{instance.Name} is healthy (pid {child.Pid})");
                    }
                    return;
                }
                await Task.Delay(ProbeInterval, stopping);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Shutdown.
        }
    }

    private async Task StopCoreAsync()
    {
        await _stopping.CancelAsync();
        // Dependents first, so nothing outlives what it depends on.
        var projects = _instances.Where(i => i.Resource is ProjectResource).ToList();
        await Task.WhenAll(projects.Select(StopInstanceAsync));
        await Task.WhenAll(_instances.Except(projects).Select(StopInstanceAsync));
        try
        {
            await Task.WhenAll(_supervisors).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            _output.Error("a supervisor did not finish within 10 s of stopping");
        }
        foreach (var instance in _instances)
        {
            instance.CurrentProcess()?.Dispose();
        }
        if (_dataDirectory is not null)
        {
            TryDelete(_dataDirectory);
        }
        Running.TryRemove(this, out _);
    }

    private async Task StopInstanceAsync(ResourceInstance instance)
    {
        var child = instance.CurrentProcess();
        if (child is { HasExited: false })
        {
            await child.StopAsync(_options.StopTimeout);
        }
        if (instance.State is not (ResourceState.External or ResourceState.Skipped))
        {
            instance.State = ResourceState.Stopped;
        }
    }

    /// <summary>The instance's last 20 lines, reaching back to its last error line (a stack trace follows it) within 60.</summary>
    private string LastLines(ResourceInstance instance)
    {
        var lines = _output.Recent(instance.Name);
        if (lines.Count == 0)
        {
            return "";
        }
        var from = Math.Max(0, lines.Count - 20);
        for (var i = lines.Count - 1; i >= Math.Max(0, lines.Count - 60); i--)
        {
            if (lines[i].StartsWith("Unhandled exception", StringComparison.Ordinal)
                || lines[i].StartsWith("fail:", StringComparison.Ordinal)
                || lines[i].StartsWith("crit:", StringComparison.Ordinal))
            {
                from = Math.Min(from, i);
                break;
            }
        }
        return $"\nLast lines of {instance.Name}:\n  " + string.Join("\n  ", lines.Skip(from));
    }

    /// <summary>Temp folders of earlier runs whose AppHost is gone (it was killed before it could clean up).</summary>
    private static void SweepStaleDataDirectories()
    {
        foreach (var directory in Directory.EnumerateDirectories(Path.GetTempPath(), "notify-apphost-*"))
        {
            var pidFile = Path.Combine(directory, "apphost.pid");
            try
            {
                if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile), CultureInfo.InvariantCulture, out var pid) && !IsAlive(pid))
                {
                    TryDelete(directory);
                }
            }
            catch (IOException)
            {
                // Another AppHost is cleaning it up.
            }
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the next run's sweep.
        }
    }

    /// <summary>Debug or Release: the configuration the AppHost itself was built in.</summary>
    private static string BuildConfiguration { get; } =
        typeof(Orchestrator).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "apphostconfiguration")?.Value ?? "Debug";

    /// <summary>Free loopback ports, held until all are chosen so no two resources get the same one.</summary>
    private sealed class PortAllocator
    {
        private readonly List<TcpListener> _held = [];

        public int Next()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            _held.Add(listener);
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        public void Release()
        {
            foreach (var listener in _held)
            {
                listener.Dispose();
            }
        }
    }
}
