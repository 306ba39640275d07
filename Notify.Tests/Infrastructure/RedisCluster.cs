using System.Diagnostics;
using System.Globalization;
using StackExchange.Redis;

namespace Notify.Tests.Infrastructure;

/// <summary>
/// A real Redis Cluster of <c>redis-server</c> processes on free loopback ports (3 primaries and a replica
/// each by default), created with <c>redis-cli --cluster create</c>, password-protected
/// (<c>requirepass</c>/<c>masterauth</c>), data in a temp folder. Ready once every node reports
/// <c>cluster_state:ok</c>; every process is stopped on dispose, also when the start fails half-way.
/// Use as a class or collection fixture: creating one takes a few seconds.
/// </summary>
public class RedisCluster : IRedisEndpoint, IAsyncLifetime
{
    /// <summary>The password every node requires.</summary>
    public const string Password = "cluster-test-password";

    private readonly int _primaries;
    private readonly int _replicas;
    private readonly List<Process> _processes = [];
    private string? _dir;

    public RedisCluster() : this(primaries: 3, replicas: 1)
    {
    }

    protected RedisCluster(int primaries, int replicas)
    {
        _primaries = primaries;
        _replicas = replicas;
    }

    /// <summary>Client ports of every node, primaries first (as passed to <c>--cluster create</c>).</summary>
    public IReadOnlyList<int> Ports { get; private set; } = [];

    /// <summary>Cluster bus ports of every node, in the order of <see cref="Ports"/>.</summary>
    public IReadOnlyList<int> BusPorts { get; private set; } = [];

    /// <summary>Pids of every node, in the order of <see cref="Ports"/>.</summary>
    public IReadOnlyList<int> Pids => [.. _processes.Select(p => p.Id)];

    public string ConnectionString =>
        string.Join(',', Ports.Select(p => "127.0.0.1:" + p.ToString(CultureInfo.InvariantCulture))) + $",password={Password},abortConnect=false";

    public async ValueTask InitializeAsync()
    {
        try
        {
            _dir = Directory.CreateTempSubdirectory("notify-redis-cluster-").FullName;
            var count = _primaries * (1 + _replicas);
            var ports = new List<int>();
            var busPorts = new List<int>();
            for (var i = 0; i < count; i++)
            {
                var (port, busPort, process) = await StartNodeOnFreePortsAsync([.. ports, .. busPorts]);
                ports.Add(port);
                busPorts.Add(busPort);
                _processes.Add(process);
            }
            Ports = ports;
            BusPorts = busPorts;
            await FormAsync();
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Builds the cluster from the started nodes; the default is <c>redis-cli --cluster create</c>
    /// with <c>--cluster-replicas</c>, then a wait for <c>cluster_state:ok</c> on every node.
    /// </summary>
    protected virtual async Task FormAsync()
    {
        var arguments = new List<string> { "-a", Password, "--no-auth-warning", "--cluster", "create" };
        arguments.AddRange(Ports.Select(p => "127.0.0.1:" + p.ToString(CultureInfo.InvariantCulture)));
        arguments.AddRange(["--cluster-replicas", _replicas.ToString(CultureInfo.InvariantCulture), "--cluster-yes"]);
        await RunCliAsync(arguments);
        foreach (var port in Ports)
        {
            await WaitAsync(port, async node => (await ClusterInfoAsync(node)).Contains("cluster_state:ok", StringComparison.Ordinal), "report cluster_state:ok");
        }
        // Every replica has its primary's data: one that never synced refuses to take over when its primary fails.
        foreach (var port in Ports)
        {
            await WaitAsync(port, async node =>
            {
                var info = ((string?)await node.ExecuteAsync("INFO", "replication")) ?? "";
                return info.Contains("role:master", StringComparison.Ordinal) || info.Contains("master_link_status:up", StringComparison.Ordinal);
            }, "have a synced primary");
        }
        // Every node knows every other, so a client that starts from any of them sees the whole cluster.
        foreach (var port in Ports)
        {
            await WaitAsync(port, async node => ((string?)await node.ExecuteAsync("CLUSTER", "NODES"))!.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length == Ports.Count, "know every node");
        }
    }

    /// <summary>Kills the node on <paramref name="port"/> at once (SIGKILL), as a crash would; the others stay up.</summary>
    public async Task KillNodeAsync(int port)
    {
        var process = _processes[Ports.ToList().IndexOf(port)];
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    /// <summary>A new multiplexer to the cluster (the caller disposes it).</summary>
    public Task<ConnectionMultiplexer> ConnectAsync() => ConnectionMultiplexer.ConnectAsync(ConnectionString);

    /// <summary>A multiplexer to one node only (no cluster redirects), for <c>CLUSTER</c> and <c>INFO</c> commands.</summary>
    public static Task<ConnectionMultiplexer> ConnectNodeAsync(int port) =>
        ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port},password={Password},connectTimeout=1000,abortConnect=false,allowAdmin=true");

    /// <summary>Runs <c>redis-cli</c> with <paramref name="arguments"/>; a non-zero exit throws with its output.</summary>
    protected static async Task RunCliAsync(IEnumerable<string> arguments)
    {
        var psi = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            psi.ArgumentList.Add(argument);
        }
        using var cli = Process.Start(psi)!;
        var output = cli.StandardOutput.ReadToEndAsync();
        var error = cli.StandardError.ReadToEndAsync();
        try
        {
            await cli.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            cli.Kill(entireProcessTree: true);
            throw;
        }
        if (cli.ExitCode != 0)
        {
            throw new InvalidOperationException($"redis-cli {string.Join(' ', psi.ArgumentList)} exited with {cli.ExitCode}: {await output}{await error}");
        }
    }

    /// <summary>Polls <paramref name="condition"/> on one node until it holds, for at most 60 s.</summary>
    protected static async Task WaitAsync(int port, Func<IServer, Task<bool>> condition, string what)
    {
        var (held, last) = await PollAsync(port, condition, TimeSpan.FromSeconds(60), process: null);
        if (!held)
        {
            throw new TimeoutException($"Redis node 127.0.0.1:{port} did not {what} within 60 s.", last);
        }
    }

    /// <summary>
    /// Polls <paramref name="condition"/> on one node until it holds (true), <paramref name="limit"/> passes or
    /// the node's <paramref name="process"/> exits (false, with the last connection error).
    /// </summary>
    private static async Task<(bool Held, Exception? Last)> PollAsync(int port, Func<IServer, Task<bool>> condition, TimeSpan limit, Process? process)
    {
        using var cts = new CancellationTokenSource(limit);
        Exception? last = null;
        while (!cts.IsCancellationRequested && process is not { HasExited: true })
        {
            try
            {
                await using var mux = await ConnectNodeAsync(port);
                if (mux.IsConnected && await condition(mux.GetServer(mux.GetEndPoints()[0])))
                {
                    return (true, null);
                }
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                last = ex;
            }
            try { await Task.Delay(100, cts.Token); } catch (OperationCanceledException) { }
        }
        return (false, last);
    }

    /// <summary>The text of <c>CLUSTER INFO</c> on one node.</summary>
    protected static async Task<string> ClusterInfoAsync(IServer node) => ((string?)await node.ExecuteAsync("CLUSTER", "INFO")) ?? "";

    /// <summary>
    /// Starts a node on two free ports and waits for its PING. A port that was free when asked can be taken
    /// before redis-server binds it (by any socket on the machine); the node then exits, and is started again
    /// on other ports (at most five times).
    /// </summary>
    private async Task<(int Port, int BusPort, Process Process)> StartNodeOnFreePortsAsync(IReadOnlyCollection<int> taken)
    {
        for (var attempt = 1; ; attempt++)
        {
            int port, busPort;
            do
            {
                port = RedisServer.FreePort();
                busPort = RedisServer.FreePort();
            }
            while (port == busPort || taken.Contains(port) || taken.Contains(busPort));
            var process = StartNode(port, busPort);
            if ((await PollAsync(port, async node => await node.PingAsync() >= TimeSpan.Zero, TimeSpan.FromSeconds(30), process)).Held)
            {
                return (port, busPort, process);
            }
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
            await process.WaitForExitAsync();
            process.Dispose();
            if (attempt == 5)
            {
                throw new TimeoutException($"Redis node on 127.0.0.1:{port} (bus {busPort}) did not answer PING; gave up after {attempt} attempts.");
            }
        }
    }

    private Process StartNode(int port, int busPort)
    {
        var p = port.ToString(CultureInfo.InvariantCulture);
        // The cluster bus gets its own free port: the default (port + 10000) may be taken or out of range.
        var bus = busPort.ToString(CultureInfo.InvariantCulture);
        var psi = new ProcessStartInfo("redis-server")
        {
            ArgumentList =
            {
                "--port", p, "--bind", "127.0.0.1", "--cluster-enabled", "yes", "--cluster-port", bus,
                "--cluster-config-file", Path.Combine(_dir!, $"nodes-{p}.conf"), "--cluster-node-timeout", "5000",
                "--requirepass", Password, "--masterauth", Password, "--save", "", "--appendonly", "no", "--repl-diskless-sync-delay", "0",
                "--dir", _dir!, "--dbfilename", $"dump-{p}.rdb",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = ProcessLauncher.Start(psi);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    public virtual async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
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
        _processes.Clear();
        if (_dir is not null)
        {
            try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
        }
        GC.SuppressFinalize(this);
    }
}

/// <summary>
/// A Redis Cluster that does not serve every slot: three primaries joined with <c>CLUSTER MEET</c>, slots given
/// to two of them only, so every node reports <c>cluster_state:fail</c>: the bad configuration a service must refuse.
/// </summary>
public sealed class RedisClusterWithMissingSlots : RedisCluster
{
    public RedisClusterWithMissingSlots() : base(primaries: 3, replicas: 0)
    {
    }

    /// <summary>Slots nobody serves.</summary>
    public const int MissingSlots = 16384 - 10923;

    protected override async Task FormAsync()
    {
        await RunCliAsync(["-p", Ports[0].ToString(CultureInfo.InvariantCulture), "-a", Password, "--no-auth-warning", "CLUSTER", "ADDSLOTSRANGE", "0", "5460"]);
        await RunCliAsync(["-p", Ports[1].ToString(CultureInfo.InvariantCulture), "-a", Password, "--no-auth-warning", "CLUSTER", "ADDSLOTSRANGE", "5461", "10922"]);
        for (var i = 1; i < Ports.Count; i++)
        {
            await RunCliAsync(["-p", Ports[0].ToString(CultureInfo.InvariantCulture), "-a", Password, "--no-auth-warning",
                "CLUSTER", "MEET", "127.0.0.1", Ports[i].ToString(CultureInfo.InvariantCulture), BusPorts[i].ToString(CultureInfo.InvariantCulture)]);
        }
        foreach (var port in Ports)
        {
            await WaitAsync(port, async node =>
            {
                var info = await ClusterInfoAsync(node);
                return info.Contains("cluster_state:fail", StringComparison.Ordinal) && info.Contains("cluster_slots_assigned:10923", StringComparison.Ordinal)
                    && info.Contains("cluster_known_nodes:3", StringComparison.Ordinal);
            }, "report the missing slots");
        }
    }
}
