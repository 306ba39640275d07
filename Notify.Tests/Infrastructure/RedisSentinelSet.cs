using System.Diagnostics;
using System.Globalization;
using System.Net;
using StackExchange.Redis;

namespace Notify.Tests.Infrastructure;

/// <summary>
/// A real Redis Sentinel set on free loopback ports: one primary, two replicas and three Sentinels
/// (quorum 2), all behind one password, with a short <c>down-after-milliseconds</c> so a killed primary
/// is replaced within seconds. Every process is tied to the test process (<see cref="ProcessLauncher"/>)
/// and killed on dispose, also when starting failed half-way.
/// </summary>
public sealed class RedisSentinelSet : IRedisEndpoint, IAsyncDisposable
{
    public const string ServiceName = "notify-primary";

    private static readonly TimeSpan ReadyDeadline = TimeSpan.FromSeconds(45);
    private readonly List<(int Port, Process Process)> _data = [];
    private readonly List<(int Port, Process Process)> _sentinels = [];
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _log = new();
    private readonly string _dir;
    private readonly TimeSpan _downAfter;

    private RedisSentinelSet(TimeSpan downAfter)
    {
        _downAfter = downAfter;
        _dir = Directory.CreateTempSubdirectory("notify-sentinel-").FullName;
    }

    /// <summary>The password of every node and Sentinel.</summary>
    public string Password { get; } = "sentinel-" + Guid.NewGuid().ToString("N");

    public IReadOnlyList<int> SentinelPorts => [.. _sentinels.Select(s => s.Port)];

    /// <summary>The data node Sentinel names as primary when the set was started, or by the last <see cref="WaitForNewPrimaryAsync"/>.</summary>
    public int PrimaryPort { get; private set; }

    /// <summary>StackExchange.Redis sentinel syntax: every Sentinel, the service name, the password.</summary>
    public string ConnectionString => ConnectionStringFor(ServiceName);

    /// <summary>The same Sentinels with another service name (one they do not monitor, for the bad-configuration test).</summary>
    public string ConnectionStringFor(string serviceName) =>
        string.Join(',', SentinelPorts.Select(p => $"127.0.0.1:{p}")) + $",serviceName={serviceName},password={Password},abortConnect=false";

    public Task<ConnectionMultiplexer> ConnectAsync() => ConnectionMultiplexer.ConnectAsync(ConnectionString);

    /// <summary>
    /// Freezes every replica (SIGSTOP) until the result is disposed (SIGCONT): the primary still lists them, but
    /// none acknowledges a write, as when they lag behind or their link is about to fail.
    /// </summary>
    public IDisposable PauseReplicas()
    {
        var replicas = _data.Where(d => d.Port != PrimaryPort && !d.Process.HasExited).Select(d => d.Process.Id).ToArray();
        foreach (var pid in replicas)
        {
            ProcessLauncher.Signal(pid, 19); // SIGSTOP
        }
        return new Resume(replicas);
    }

    private sealed class Resume(int[] pids) : IDisposable
    {
        public void Dispose()
        {
            foreach (var pid in pids)
            {
                ProcessLauncher.Signal(pid, 18); // SIGCONT
            }
        }
    }

    /// <summary>Starts the primary, two replicas and three Sentinels and waits until every Sentinel sees the whole set.</summary>
    public static async Task<RedisSentinelSet> StartAsync(TimeSpan? downAfter = null)
    {
        var set = new RedisSentinelSet(downAfter ?? TimeSpan.FromSeconds(1));
        try
        {
            using var deadline = new CancellationTokenSource(ReadyDeadline);
            set.PrimaryPort = set.StartData(replicaOf: null);
            set.StartData(set.PrimaryPort);
            set.StartData(set.PrimaryPort);
            foreach (var (port, process) in set._data)
            {
                await set.WaitUntilAsync(port, process, "replication up", async db => IsLinkUp(await InfoAsync(db, "replication"), port == set.PrimaryPort), deadline.Token);
            }
            for (var i = 0; i < 3; i++)
            {
                set.StartSentinel();
            }
            var dataPorts = set._data.Select(d => d.Port.ToString(CultureInfo.InvariantCulture)).ToHashSet(StringComparer.Ordinal);
            while (true)
            {
                var named = new HashSet<string>(StringComparer.Ordinal);
                foreach (var (port, process) in set._sentinels)
                {
                    // Sentinels find each other and the replicas through the primary: wait until each knows the whole
                    // set. On a loaded machine they may fail over once while starting (down-after is short): then the
                    // set is ready with the promoted primary, once every Sentinel names the same one.
                    var seen = "nothing";
                    try
                    {
                        await set.WaitUntilAsync(port, process, "sentinel sees the set", async db =>
                        {
                            var master = Fields((RedisResult[])(await db.ExecuteAsync("SENTINEL", "MASTER", ServiceName))!);
                            seen = string.Join(' ', new[] { "port", "flags", "num-slaves", "num-other-sentinels" }.Select(k => $"{k}={master.GetValueOrDefault(k)}"));
                            if (dataPorts.Contains(master["port"]) && master["num-slaves"] == "2" && master["num-other-sentinels"] == "2" && master["flags"] == "master")
                            {
                                named.Add(master["port"]);
                                return true;
                            }
                            return false;
                        }, deadline.Token);
                    }
                    catch (TimeoutException ex)
                    {
                        throw new TimeoutException($"{ex.Message} (it last reported {seen}); Sentinel logs:\n{string.Join('\n', set._log.TakeLast(40))}", ex);
                    }
                }
                if (named.Count == 1)
                {
                    set.PrimaryPort = int.Parse(named.Single(), CultureInfo.InvariantCulture);
                    return set;
                }
                await Task.Delay(100, deadline.Token);
            }
        }
        catch
        {
            await set.DisposeAsync();
            throw;
        }
    }

    /// <summary>Kills the current primary (SIGKILL, as a crash would); returns its port.</summary>
    public async Task<int> KillPrimaryAsync()
    {
        var primary = _data.Single(d => d.Port == PrimaryPort);
        primary.Process.Kill(entireProcessTree: true);
        await primary.Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        return primary.Port;
    }

    /// <summary>Waits until a Sentinel names a primary other than <paramref name="oldPort"/> and that node answers as primary; returns its port.</summary>
    public async Task<int> WaitForNewPrimaryAsync(int oldPort, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            foreach (var (port, _) in _sentinels)
            {
                if (await AskAsync(port, async server =>
                    {
                        var address = (RedisResult[]?)await server.ExecuteAsync("SENTINEL", "GET-MASTER-ADDR-BY-NAME", ServiceName);
                        return address is { Length: 2 } ? int.Parse((string)address[1]!, CultureInfo.InvariantCulture) : 0;
                    }) is var named and not 0 && named != oldPort
                    && await AskAsync(named, async server => (await InfoAsync(server, "replication")).Contains("role:master", StringComparison.Ordinal)))
                {
                    PrimaryPort = named;
                    return named;
                }
            }
            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"no Sentinel named a new primary within {timeout}; Sentinel logs:\n{string.Join('\n', _log)}");
            }
            await Task.Delay(100, CancellationToken.None);
        }
    }

    private int StartData(int? replicaOf)
    {
        var port = RedisServer.FreePort();
        var dir = Directory.CreateDirectory(Path.Combine(_dir, "data-" + port)).FullName;
        var lines = new List<string>
        {
            $"port {port}", "bind 127.0.0.1", "save \"\"", "appendonly no", $"dir {dir}",
            $"requirepass {Password}", $"masterauth {Password}",
        };
        if (replicaOf is { } primary)
        {
            lines.Add($"replicaof 127.0.0.1 {primary}");
        }
        _data.Add((port, Launch(port, lines, sentinel: false)));
        return port;
    }

    private void StartSentinel()
    {
        var port = RedisServer.FreePort();
        var milliseconds = ((int)_downAfter.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        string[] lines =
        [
            $"port {port}", "bind 127.0.0.1", $"dir {_dir}",
            $"requirepass {Password}", $"sentinel sentinel-pass {Password}",
            $"sentinel monitor {ServiceName} 127.0.0.1 {PrimaryPort} 2",
            $"sentinel auth-pass {ServiceName} {Password}",
            $"sentinel down-after-milliseconds {ServiceName} {milliseconds}",
            // A failed attempt is retried after twice this; small so a lost election does not stall a test.
            $"sentinel failover-timeout {ServiceName} 4000",
            $"sentinel parallel-syncs {ServiceName} 2",
        ];
        _sentinels.Add((port, Launch(port, lines, sentinel: true)));
    }

    /// <summary>Writes the node's configuration file (Sentinel rewrites its own) and starts redis-server on it.</summary>
    private Process Launch(int port, IEnumerable<string> lines, bool sentinel)
    {
        // The password stays in a file only this user reads, never on a command line.
        var config = Path.Combine(_dir, (sentinel ? "sentinel-" : "redis-") + port + ".conf");
        File.WriteAllLines(config, lines);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        var psi = new ProcessStartInfo("redis-server")
        {
            ArgumentList = { config },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (sentinel)
        {
            psi.ArgumentList.Add("--sentinel");
        }
        var process = ProcessLauncher.Start(psi);
        if (sentinel)
        {
            process.OutputDataReceived += (_, e) => Append(port, e.Data);
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private void Append(int port, string? line)
    {
        if (line is null)
        {
            return;
        }
        _log.Enqueue($"{port}: {line}");
        while (_log.Count > 200 && _log.TryDequeue(out _))
        {
        }
    }

    /// <summary>One question to one node; default when it does not answer.</summary>
    private async Task<T?> AskAsync<T>(int port, Func<IServer, Task<T>> question)
    {
        try
        {
            await using var mux = await ConnectAsync(port);
            return mux.IsConnected ? await question(mux.GetServer(IPAddress.Loopback, port)) : default;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return default;
        }
    }

    private Task<ConnectionMultiplexer> ConnectAsync(int port) => ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
    {
        EndPoints = { { IPAddress.Loopback, port } },
        Password = Password,
        AbortOnConnectFail = false,
        ConnectTimeout = 1000,
        CommandMap = _sentinels.Any(s => s.Port == port) ? CommandMap.Sentinel : CommandMap.Default,
    });

    private async Task WaitUntilAsync(int port, Process process, string what, Func<IServer, Task<bool>> ready, CancellationToken deadline)
    {
        Exception? last = null;
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"redis-server on port {port} exited with {process.ExitCode} while waiting for: {what}");
            }
            try
            {
                await using var mux = await ConnectAsync(port);
                if (mux.IsConnected && await ready(mux.GetServer(IPAddress.Loopback, port)))
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                last = ex;
            }
            if (deadline.IsCancellationRequested)
            {
                throw new TimeoutException($"redis-server on port {port}: timed out waiting for: {what}", last);
            }
            await Task.Delay(100, CancellationToken.None);
        }
    }

    private static async Task<string> InfoAsync(IServer db, string section) => (string)(await db.ExecuteAsync("INFO", section))!;

    private static bool IsLinkUp(string info, bool primary) =>
        primary ? info.Contains("role:master", StringComparison.Ordinal) : info.Contains("master_link_status:up", StringComparison.Ordinal);

    private static Dictionary<string, string> Fields(RedisResult[] flat)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < flat.Length; i += 2)
        {
            fields[(string)flat[i]!] = (string)flat[i + 1]!;
        }
        return fields;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, process) in _sentinels.Concat(_data))
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
                }
            }
            catch (InvalidOperationException)
            {
            }
            process.Dispose();
        }
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
