using System.Globalization;

namespace Notify.Tests.Testing;

/// <summary>Linux process facts from /proc: children of a pid, and whether a pid (as first seen) still runs.</summary>
public static class ProcessTable
{
    /// <summary>A process identity that survives pid reuse: the pid and its start time in clock ticks.</summary>
    public readonly record struct ProcessIdentity(int Pid, long StartTime);

    /// <summary>The identity of <paramref name="pid"/> now, or null when it does not exist.</summary>
    public static ProcessIdentity? Identify(int pid) =>
        ReadStat(pid) is { } stat ? new ProcessIdentity(pid, stat.StartTime) : null;

    /// <summary>True while the process runs (exists, is not a zombie, and is the same process as <paramref name="identity"/>).</summary>
    public static bool IsRunning(ProcessIdentity identity) =>
        ReadStat(identity.Pid) is { } stat && stat.StartTime == identity.StartTime && stat.State is not ('Z' or 'X');

    /// <summary>The pid of every process /proc lists now.</summary>
    public static IEnumerable<int> AllPids()
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), CultureInfo.InvariantCulture, out var pid))
            {
                yield return pid;
            }
        }
    }

    /// <summary>The direct children of <paramref name="parentPid"/>.</summary>
    public static IReadOnlyList<ProcessIdentity> ChildrenOf(int parentPid)
    {
        var children = new List<ProcessIdentity>();
        foreach (var pid in AllPids())
        {
            if (ReadStat(pid) is { } stat && stat.ParentPid == parentPid && stat.State is not ('Z' or 'X'))
            {
                children.Add(new ProcessIdentity(pid, stat.StartTime));
            }
        }
        return children;
    }

    /// <summary>Every process below <paramref name="pid"/> (children, their children, ...), DCP's session included.</summary>
    public static IReadOnlyList<ProcessIdentity> DescendantsOf(int pid)
    {
        var all = new List<ProcessIdentity>();
        var parents = new Queue<int>([pid]);
        while (parents.TryDequeue(out var parent))
        {
            foreach (var child in ChildrenOf(parent))
            {
                all.Add(child);
                parents.Enqueue(child.Pid);
            }
        }
        return all;
    }

    /// <summary>
    /// Every process an AppHost started: DCP (which runs detached, in its own session, watching the AppHost's pid:
    /// <c>dcp start-apiserver --monitor &lt;pid&gt;</c>) and everything below it, the dashboard and the resources.
    /// </summary>
    public static IReadOnlyList<ProcessIdentity> StartedByAppHost(int appHostPid)
    {
        var dcp = new List<ProcessIdentity>();
        foreach (var pid in AllPids())
        {
            if (CommandLine(pid) is [var program, .. var arguments]
                && program.EndsWith("/dcp", StringComparison.Ordinal)
                && arguments.Zip(arguments.Skip(1)).Any(a => a.First == "--monitor" && a.Second == appHostPid.ToString(CultureInfo.InvariantCulture))
                && Identify(pid) is { } identity)
            {
                dcp.Add(identity);
            }
        }
        return [.. dcp, .. dcp.SelectMany(d => DescendantsOf(d.Pid))];
    }

    /// <summary>The arguments <paramref name="pid"/> was started with, or empty when it is gone.</summary>
    public static string[] CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>Waits until none of <paramref name="processes"/> runs; returns those still running at the deadline.</summary>
    public static async Task<IReadOnlyList<ProcessIdentity>> WaitAllExitedAsync(IEnumerable<ProcessIdentity> processes, TimeSpan timeout)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (true)
        {
            var running = processes.Where(IsRunning).ToList();
            if (running.Count == 0 || DateTimeOffset.UtcNow > deadline)
            {
                return running;
            }
            await Task.Delay(50);
        }
    }

    private static (char State, int ParentPid, long StartTime)? ReadStat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        // "pid (comm) state ppid ..." — comm may hold spaces and parentheses, so split after the last ')'.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        return (fields[0][0], int.Parse(fields[1], CultureInfo.InvariantCulture), long.Parse(fields[19], CultureInfo.InvariantCulture));
    }
}
