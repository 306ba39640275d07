using System.Collections.Concurrent;
using System.Diagnostics;
using Notify.Tests.Infrastructure;

namespace Notify.Tests.Testing;

/// <summary>
/// The AppHost run as its own process (<c>dotnet Notify.AppHost.dll args</c>), as <c>dotnet run --project Notify.AppHost</c>
/// runs it with its <c>http</c> launch profile: for tests of what only a real process shows (signals, exit codes, console
/// output, the dashboard). The dashboard's three ports are free ports of the test's. Disposing kills the AppHost; DCP,
/// which watches its pid, then stops everything it started.
/// </summary>
public sealed class AppHostProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();

    private AppHostProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { _stdout.Enqueue(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { _stderr.Enqueue(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Pid => _process.Id;

    public IReadOnlyList<string> StandardOutput => [.. _stdout];

    public IReadOnlyList<string> StandardError => [.. _stderr];

    public string AllOutput => string.Join('\n', StandardOutput.Concat(StandardError));

    /// <summary>Starts the built AppHost with <paramref name="args"/>; <paramref name="environment"/> values of null remove a variable.</summary>
    public static AppHostProcess Start(IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null, string? workingDirectory = null)
    {
        var dll = Path.Combine(ServiceProcess.RepositoryRoot, "Notify.AppHost", "bin", ServiceProcess.BuildConfiguration, "net10.0", "Notify.AppHost.dll");
        var startInfo = new ProcessStartInfo(DotnetHost())
        {
            WorkingDirectory = workingDirectory ?? ServiceProcess.RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            startInfo.ArgumentList.Add(arg);
        }
        startInfo.Environment["DOTNET_NOLOGO"] = "1";
        // The http launch profile, on ports of this run.
        startInfo.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        startInfo.Environment["DOTNET_ENVIRONMENT"] = "Development";
        startInfo.Environment["ASPNETCORE_URLS"] = $"http://localhost:{RedisServer.FreePort()}";
        startInfo.Environment["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] = $"http://localhost:{RedisServer.FreePort()}";
        startInfo.Environment["ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL"] = $"http://localhost:{RedisServer.FreePort()}";
        startInfo.Environment["ASPIRE_ALLOW_UNSECURED_TRANSPORT"] = "true";
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                startInfo.Environment.Remove(key);
            }
            else
            {
                startInfo.Environment[key] = value;
            }
        }
        return new AppHostProcess(Process.Start(startInfo) ?? throw new InvalidOperationException("The AppHost did not start."));
    }

    /// <summary>Waits until a stdout line satisfies <paramref name="predicate"/>; fails with the output so far when the process exits or the deadline passes.</summary>
    public async Task WaitForOutputAsync(Func<string, bool> predicate, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (!_stdout.Any(predicate))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The AppHost exited with {_process.ExitCode} before the expected line:\n{AllOutput}");
            }
            if (watch.Elapsed > timeout)
            {
                throw new TimeoutException($"The expected line did not appear within {timeout}:\n{AllOutput}");
            }
            await Task.Delay(50);
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        await _process.WaitForExitAsync().WaitAsync(timeout);
        return _process.ExitCode;
    }

    public void Signal(int signal) => Assert.Equal(0, Signals.Kill(_process.Id, signal));

    /// <summary>The URL the AppHost printed for the dashboard's login, with its token.</summary>
    public Uri DashboardLoginUrl =>
        new(StandardOutput.Select(l => l[(l.IndexOf("http", StringComparison.Ordinal) is var i and >= 0 ? i : l.Length)..].Trim())
            .First(u => u.Contains("/login?t=", StringComparison.Ordinal)));

    /// <summary>The <c>dotnet</c> host that runs the tests (<c>DOTNET_HOST_PATH</c>, set by <c>dotnet test</c>), else the one on PATH.</summary>
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path && File.Exists(path) ? path : "dotnet";

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        _process.Dispose();
    }
}
