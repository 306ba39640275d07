using System.Collections.Concurrent;
using System.Diagnostics;
using Notify.AppHost.Hosting;
using Notify.Tests.Infrastructure;

namespace Notify.Tests.Testing;

/// <summary>
/// The AppHost run as its own process (<c>dotnet Notify.AppHost.dll args</c>), as <c>dotnet run --project Notify.AppHost</c>
/// runs it: for tests of what only a real process shows (signals, exit codes, console output). Disposing kills it.
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
        var startInfo = new ProcessStartInfo(Prerequisites.DotnetHost())
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
        return new AppHostProcess(ProcessLauncher.Start(startInfo));
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

    public void Signal(int signal) => ProcessLauncher.Signal(_process.Id, signal);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        _process.Dispose();
    }
}
