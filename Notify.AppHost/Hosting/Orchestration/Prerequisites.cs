using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Notify.AppHost.Hosting;

/// <summary>Finds the programs the local run needs and installs <c>redis-server</c> when it can.</summary>
internal static partial class Prerequisites
{
    public const string MissingRedis =
        "redis-server was not found on PATH. Install it (Debian/Ubuntu: sudo apt-get install -y redis-server) " +
        "or point ConnectionStrings__redis at an existing Redis (e.g. ConnectionStrings__redis=localhost:6379).";

    /// <summary>The full path of <paramref name="program"/> on PATH, or null.</summary>
    public static string? FindOnPath(string program)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, program);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    /// <summary>
    /// <c>redis-server</c> from PATH; when missing and allowed (<see cref="AppHostOptions.InstallMissing"/>, root, apt-get
    /// present) installs it with apt-get. Otherwise throws with the one line that says what to do.
    /// </summary>
    public static async Task<string> RedisServerAsync(AppHostOptions options, AppHostOutput output, CancellationToken cancellationToken)
    {
        if (FindOnPath("redis-server") is { } found)
        {
            return found;
        }
        var aptGet = FindOnPath("apt-get");
        if (!options.InstallMissing || aptGet is null || !OperatingSystem.IsLinux() || GetEffectiveUserId() != 0)
        {
            throw new AppHostException(MissingRedis);
        }
        output.Info("redis-server is missing: installing it with apt-get");
        if (await AptGetAsync(aptGet, ["update", "-qq"], output, cancellationToken) != 0
            || await AptGetAsync(aptGet, ["install", "-y", "-qq", "redis-server"], output, cancellationToken) != 0)
        {
            throw new AppHostException("apt-get could not install redis-server. " + MissingRedis);
        }
        return FindOnPath("redis-server") ?? (File.Exists("/usr/bin/redis-server") ? "/usr/bin/redis-server" : throw new AppHostException(MissingRedis));
    }

    private static async Task<int> AptGetAsync(string aptGet, string[] arguments, AppHostOutput output, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(aptGet);
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
        startInfo.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var child = ChildProcess.Start(startInfo, line => output.ResourceLine("apt", line));
        try
        {
            return await child.Exited.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            child.Kill();
            throw;
        }
    }

    /// <summary>The <c>dotnet</c> host that runs this process, so the services run on the same runtime install.</summary>
    public static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath))
        {
            return hostPath;
        }
        // <root>/shared/Microsoft.NETCore.App/<version>/ → <root>/dotnet
        var root = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        var candidate = Path.Combine(root, OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet");
        return File.Exists(candidate) ? candidate : FindOnPath("dotnet") ?? "dotnet";
    }

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEffectiveUserId();
}
