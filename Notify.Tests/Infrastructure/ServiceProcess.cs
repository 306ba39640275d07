using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Notify.Tests.Infrastructure;

/// <summary>
/// One Notify service (Api, Realtime or Worker) running as a real child process from its build output,
/// on its own loopback port, with the environment a real AppHost would give it. Disposing kills it; a
/// process-exit hook kills whatever is left if the test host itself goes down.
/// </summary>
public sealed partial class ServiceProcess : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<int, Process> Live = new();
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _log = new();

    static ServiceProcess()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var p in Live.Values)
            {
                try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            }
        };
    }

    private ServiceProcess(string name, int port, Process process)
    {
        Name = name;
        Port = port;
        _process = process;
    }

    /// <summary>Project name, e.g. <c>Notify.Api</c>.</summary>
    public string Name { get; }

    public int Port { get; }

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}");

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>The last lines the process wrote (bounded), for failure messages.</summary>
    public string RecentLog => string.Join('\n', _log);

    /// <summary>
    /// Starts <paramref name="project"/> (e.g. <c>Notify.Api</c>) with <paramref name="environment"/>
    /// added to Aspire's variables, and waits until <c>/alive</c> answers 200.
    /// </summary>
    public static async Task<ServiceProcess> StartAsync(string project, IReadOnlyDictionary<string, string?> environment, TimeSpan? timeout = null, int? port = null)
    {
        // A port that was free when chosen can be taken before the service binds it (any socket on the machine,
        // an outgoing connection's ephemeral port among them): the service then exits, and is started again on
        // another port (at most five times). A port the caller chose is never changed.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnceAsync(project, environment, timeout, port);
            }
            catch (InvalidOperationException ex) when (port is null && attempt < 5 && ex.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
            }
        }
    }

    private static async Task<ServiceProcess> StartOnceAsync(string project, IReadOnlyDictionary<string, string?> environment, TimeSpan? timeout, int? port)
    {
        var dll = Path.Combine(RepositoryRoot, project, "bin", BuildConfiguration, "net10.0", project + ".dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"Build output of {project} not found; build the solution first.", dll);
        }
        var chosenPort = port ?? RedisServer.FreePort();
        var psi = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { dll },
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{chosenPort}";
        // Development, as a local run: dev tokens and the demo task kinds exist only there (a test can override it).
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        psi.Environment["OTEL_SERVICE_NAME"] = project;
        psi.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment)
        {
            psi.Environment[key] = value;
        }

        // Tied to the test process: a test host that dies takes its services with it.
        var process = ProcessLauncher.Start(psi);
        var service = new ServiceProcess(project, chosenPort, process);
        Live[process.Id] = process;
        process.OutputDataReceived += (_, e) => service.Append(e.Data);
        process.ErrorDataReceived += (_, e) => service.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            await service.WaitUntilAsync("/alive", timeout ?? TimeSpan.FromSeconds(30));
        }
        catch
        {
            await service.DisposeAsync();
            throw;
        }
        return service;
    }

    /// <summary>Polls <paramref name="path"/> until it answers 200, the process exits, or the deadline passes.</summary>
    public async Task WaitUntilAsync(string path, TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                // Until its output streams close, the last lines it wrote may still be on their way.
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
                throw new InvalidOperationException($"{Name} exited with {_process.ExitCode}:\n{RecentLog}");
            }
            try
            {
                using var response = await http.GetAsync(path);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"{Name} {path} not 200 within {timeout}:\n{RecentLog}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>Sends SIGTERM (graceful shutdown) and waits for exit.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            _ = SysKill(_process.Id, 15);
            await _process.WaitForExitAsync().WaitAsync(timeout);
        }
    }

    /// <summary>Kills the process at once (a crash, as far as its peers can tell).</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await KillAsync();
        }
        finally
        {
            Live.TryRemove(_process.Id, out _);
            _process.Dispose();
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        _log.Enqueue(line);
        while (_log.Count > 400 && _log.TryDequeue(out _))
        {
        }
    }

    /// <summary>The folder that holds Notify.sln.</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>Debug or Release: whatever this test assembly was built as.</summary>
    public static string BuildConfiguration { get; } =
        new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Notify.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("Notify.sln not found above " + AppContext.BaseDirectory);
    }

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int SysKill(int pid, int signal);

    internal static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
