using System.Diagnostics;
using System.Globalization;

namespace Notify.Bench.Realtime;

/// <summary>
/// What a process got from the machine during a burst, read from /proc: the time its threads
/// were ready to run but waited for a core (the run-queue wait of /proc/pid/task/*/schedstat; on a shared
/// machine this is the share the other processes took), and its thread count. Optionally records a
/// <c>perf</c> profile and the runtime's counters (<c>dotnet-counters</c>) of the server meanwhile.
/// </summary>
internal sealed class ServerProbe
{
    private readonly int[] _pids;
    private readonly double _wait;
    private readonly long _started = Stopwatch.GetTimestamp();

    private ServerProbe(int[] pids)
    {
        _pids = pids;
        _wait = RunQueueWait(pids);
    }

    public static ServerProbe Start(IEnumerable<int> pids) => new([.. pids]);

    /// <summary>Run-queue seconds (threads alive at both ends) and wall seconds since <see cref="Start"/>.</summary>
    public (double RunQueueWait, double Wall) Read() =>
        (RunQueueWait(_pids) - _wait, Stopwatch.GetElapsedTime(_started).TotalSeconds);

    /// <summary>Seconds the threads of <paramref name="pids"/> (alive now) spent waiting for a core.</summary>
    public static double RunQueueWait(IEnumerable<int> pids) => pids.Sum(pid => Tasks(pid).Sum(task => Schedstat(pid, task, 1)));

    public static int Threads(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("Threads:", StringComparison.Ordinal))
                {
                    return int.Parse(line["Threads:".Length..].Trim(), CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
        }
        return 0;
    }

    private static IEnumerable<string> Tasks(int pid)
    {
        try
        {
            return Directory.GetDirectories($"/proc/{pid}/task").Select(Path.GetFileName)!;
        }
        catch (IOException)
        {
            return [];
        }
    }

    private static double Schedstat(int pid, string task, int field)
    {
        try
        {
            var fields = File.ReadAllText($"/proc/{pid}/task/{task}/schedstat").Split(' ');
            return long.Parse(fields[field], CultureInfo.InvariantCulture) / 1e9;
        }
        catch (Exception ex) when (ex is IOException or FormatException or IndexOutOfRangeException)
        {
            return 0;
        }
    }

    /// <summary>Starts <c>perf record</c> (call graphs, 999 Hz) on <paramref name="pid"/>; null when perf is missing.</summary>
    public static Process? StartPerf(int pid, string file) =>
        TryStart("perf", "record", "-F", "999", "-g", "-p", pid.ToString(CultureInfo.InvariantCulture), "-o", file);

    /// <summary>
    /// Starts <c>perf stat</c> on <paramref name="pid"/>: CPU, context switches, and the system calls that say how
    /// the work was done (socket sends, futex waits and wakes, epoll waits); null when perf is missing.
    /// </summary>
    public static Process? StartPerfStat(int pid, string file) =>
        TryStart("perf", "stat", "-x", ",", "-o", file, "-p", pid.ToString(CultureInfo.InvariantCulture), "-e",
            "task-clock,context-switches,cpu-migrations,syscalls:sys_enter_sendto,syscalls:sys_enter_sendmsg,syscalls:sys_enter_futex,syscalls:sys_enter_epoll_wait");

    /// <summary>Starts <c>dotnet-counters collect</c> (runtime counters every second, CSV) on <paramref name="pid"/>; null when it is missing.</summary>
    public static Process? StartCounters(int pid, string file) =>
        TryStart(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet", "tools", "dotnet-counters"),
            "collect", "-p", pid.ToString(CultureInfo.InvariantCulture), "--refresh-interval", "1", "--format", "csv", "-o", file,
            "--counters", "System.Runtime");

    /// <summary>Stops a recorder the way it expects (SIGINT) and waits for it to write its file.</summary>
    public static async Task StopAsync(Process? recorder)
    {
        if (recorder is null)
        {
            return;
        }
        using (var kill = Process.Start("kill", ["-INT", recorder.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await recorder.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            recorder.Kill();
        }
        recorder.Dispose();
    }

    private static Process? TryStart(string file, params string[] arguments)
    {
        var psi = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            psi.ArgumentList.Add(argument);
        }
        try
        {
            var process = Process.Start(psi)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return process;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
