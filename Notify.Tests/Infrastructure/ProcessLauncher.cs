using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Aspire.Hosting;

namespace Notify.Tests.Infrastructure;

/// <summary>
/// Starts child processes so that they cannot outlive this process, however it ends (even SIGKILL).
/// On Linux each child is started as <c>setsid setpriv --pdeathsig KILL -- program args</c> (util-linux):
/// both exec in place, so the pid is the program's own; the child leads its own session (a terminal's
/// Ctrl+C reaches only the test host); and the kernel sends it SIGKILL when its parent dies. The kernel's "parent" is the thread that forked, so every fork happens
/// on one dedicated thread that lives as long as the process.
/// </summary>
public static partial class ProcessLauncher
{
    private static readonly BlockingCollection<(ProcessStartInfo StartInfo, TaskCompletionSource<Process> Result)> Requests = new();
    private static readonly string? Setsid = Prerequisites.FindOnPath("setsid") ?? ExistingOrNull("/usr/bin/setsid");
    private static readonly string? Setpriv = Prerequisites.FindOnPath("setpriv") ?? ExistingOrNull("/usr/bin/setpriv");

    static ProcessLauncher()
    {
        var thread = new Thread(Launch) { IsBackground = true, Name = "Notify child launcher" };
        thread.Start();
    }

    /// <summary>True when children are tied to this process (Linux with util-linux's setsid and setpriv).</summary>
    public static bool TiesChildrenToParent => OperatingSystem.IsLinux() && Setsid is not null && Setpriv is not null;

    /// <summary>Starts <paramref name="startInfo"/> (FileName should be a full path) tied to this process when possible.</summary>
    public static Process Start(ProcessStartInfo startInfo)
    {
        ArgumentNullException.ThrowIfNull(startInfo);
        if (TiesChildrenToParent)
        {
            var arguments = startInfo.ArgumentList;
            arguments.Insert(0, startInfo.FileName);
            arguments.Insert(0, "--");
            arguments.Insert(0, "KILL");
            arguments.Insert(0, "--pdeathsig");
            arguments.Insert(0, Setpriv!);
            startInfo.FileName = Setsid!;
        }
        var result = new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously);
        Requests.Add((startInfo, result));
        return result.Task.GetAwaiter().GetResult();
    }

    /// <summary>Sends <paramref name="signal"/> (e.g. 15 = SIGTERM) to <paramref name="pid"/>.</summary>
    public static void Signal(int pid, int signal) => _ = SysKill(pid, signal);

    private static void Launch()
    {
        foreach (var (startInfo, result) in Requests.GetConsumingEnumerable())
        {
            try
            {
                result.SetResult(Process.Start(startInfo) ?? throw new InvalidOperationException($"{startInfo.FileName} did not start."));
            }
            catch (Exception e)
            {
                // This thread must never end early: its children would get SIGKILL with it.
                result.SetException(e);
            }
        }
    }

    private static string? ExistingOrNull(string path) => File.Exists(path) ? path : null;

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int SysKill(int pid, int signal);
}
