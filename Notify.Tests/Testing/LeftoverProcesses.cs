using Notify.Tests.Testing;

[assembly: AssemblyFixture(typeof(LeftoverProcesses))]

namespace Notify.Tests.Testing;

/// <summary>
/// The last line of "no process left behind": every process the test run starts (services, redis-server, DCP and
/// what it runs, Chromium) inherits a marker in its environment, and when the last test has finished any process
/// still carrying it is killed and named on the error output, so a test that leaks one is seen without leaving the
/// machine busy. Each test still stops what it starts; this only catches what slipped through (an orphan whose
/// parent died first), such as a service DCP ran for an AppHost. (redis-server overwrites its environment with its
/// process title, so it is not found this way; <see cref="Infrastructure.ProcessLauncher"/> ties it to the test
/// process instead.)
/// </summary>
public sealed class LeftoverProcesses : IDisposable
{
    private const string Marker = "NOTIFY_TEST_RUN";
    private readonly string _run = Guid.NewGuid().ToString("N");

    public LeftoverProcesses() => Environment.SetEnvironmentVariable(Marker, _run);

    public void Dispose()
    {
        var self = Environment.ProcessId;
        var needle = $"{Marker}={_run}";
        foreach (var pid in ProcessTable.AllPids())
        {
            if (pid == self || ProcessTable.Identify(pid) is not { } identity || !ProcessTable.IsRunning(identity) || !Carries(pid, needle))
            {
                continue;
            }
            Console.Error.WriteLine($"leftover process killed after the tests: {pid} {string.Join(' ', ProcessTable.CommandLine(pid).Take(6))}");
            try
            {
                System.Diagnostics.Process.GetProcessById(pid).Kill(entireProcessTree: true);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Gone meanwhile.
            }
        }
    }

    private static bool Carries(int pid, string needle)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/environ").Split('\0').Contains(needle, StringComparer.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
