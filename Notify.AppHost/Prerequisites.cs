using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Configuration;

namespace Aspire.Hosting;

/// <summary>A program the local run needs is missing; the message is the one line that says how to fix it.</summary>
public sealed class MissingPrerequisiteException(string message) : Exception(message);

/// <summary>Finds the programs a local run needs, and installs <c>redis-server</c> when it may.</summary>
public static class Prerequisites
{
    public const string MissingRedis =
        "redis-server was not found on PATH. Install it (Debian/Ubuntu: sudo apt-get install -y redis-server) " +
        "or point ConnectionStrings__redis at an existing Redis (e.g. ConnectionStrings__redis=localhost:6379,password=...).";

    /// <summary>The full path of <paramref name="program"/> on PATH, or null.</summary>
    public static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, program))
            .FirstOrDefault(File.Exists);

    /// <summary>
    /// <c>redis-server</c> from PATH. When it is missing, <c>AppHost:InstallMissing</c> is true (the default), the AppHost
    /// runs as root on Linux and apt-get exists, it is installed; otherwise <see cref="MissingPrerequisiteException"/>.
    /// </summary>
    public static string RedisServer(IConfiguration configuration)
    {
        if (FindOnPath("redis-server") is { } found)
        {
            return found;
        }
        var installMissing = configuration.GetValue("AppHost:InstallMissing", defaultValue: true);
        if (!installMissing || !OperatingSystem.IsLinux() || !Environment.IsPrivilegedProcess || FindOnPath("apt-get") is not { } aptGet)
        {
            throw new MissingPrerequisiteException(MissingRedis);
        }
        Console.WriteLine("redis-server is missing: installing it with apt-get");
        if (AptGet(aptGet, "update", "-qq") != 0 || AptGet(aptGet, "install", "-y", "-qq", "redis-server") != 0)
        {
            throw new MissingPrerequisiteException("apt-get could not install redis-server. " + MissingRedis);
        }
        return FindOnPath("redis-server") ?? throw new MissingPrerequisiteException(MissingRedis);
    }

    private static int AptGet(string aptGet, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo(aptGet, arguments) { UseShellExecute = false };
        startInfo.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var process = Process.Start(startInfo) ?? throw new MissingPrerequisiteException(MissingRedis);
        process.WaitForExit();
        return process.ExitCode;
    }

    /// <summary>
    /// A missing program ends the AppHost with its one line on stderr and exit code 1, not a stack trace.
    /// (Under the testing host the exception reaches the test instead: it is not unhandled there.)
    /// </summary>
    [ModuleInitializer]
    internal static void ReportMissingPrerequisites() =>
        AppDomain.CurrentDomain.UnhandledException += (_, e) =>
        {
            if (e.ExceptionObject is MissingPrerequisiteException missing)
            {
                Console.Error.WriteLine(missing.Message);
                Environment.Exit(1);
            }
        };
}
