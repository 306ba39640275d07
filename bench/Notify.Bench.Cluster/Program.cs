// Personal-notification throughput and channel fan-out through real Realtime instances on one redis-server and on a
// 3-shard Redis Cluster (3 primaries, 3 replicas), with Redis CPU per node from /proc. Publishes the frames the Api
// publishes (RedisMessageBus, as the outbox does; the store write is not part of it) in a closed loop, counts what
// reaches the WebSocket clients, and writes a Markdown report with the median of several rounds.
//
//   dotnet run -c Release --project bench/Notify.Bench.Cluster -- [--instances 3] [--users 600] [--channels 20]
//       [--seconds 8] [--rounds 3] [--publishers 16] [--broadcast-rate 20] [--out bench/results/cluster-raw.md]
//
// Phases per round: personal (user topics, sharded on the cluster), channel (channel topics with history, sharded),
// broadcast (the broadcast topic, classic pub/sub: every node of a cluster relays it), at --broadcast-rate per second
// from one publisher (each reaches every user). Idle CPU per node is sampled once before the rounds.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Notify.Core.Auth;
using Notify.Core.Json;
using Notify.Core.Messaging;
using Notify.Core.Notifications;
using StackExchange.Redis;

var instances = (int)Arg("--instances", 3);
var users = (int)Arg("--users", 600);
var channelCount = (int)Arg("--channels", 20);
var seconds = Arg("--seconds", 8);
var rounds = (int)Arg("--rounds", 3);
var publishers = (int)Arg("--publishers", 16);
var broadcastRate = Arg("--broadcast-rate", 20);
var root = FindRoot();
var output = Path.GetFullPath(ArgText("--out") ?? Path.Combine(root, "bench", "results", "cluster-raw.md"));
var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
const string signingKey = "cluster-bench-signing-key-0123456789abcdef";
const string password = "cluster-bench-password";
var tokens = new NotifyTokens(Options.Create(new AuthOptions { SigningKey = signingKey }), TimeProvider.System);
var report = new StringBuilder();
var loadBefore = File.ReadAllText("/proc/loadavg").Trim();
var results = new List<(string Topology, string Phase, List<Measure> Rounds, int Nodes)>();
var idle = new List<(string Topology, double[] CpuPercent)>();

foreach (var topology in new[] { "1 node", "3-shard cluster" })
{
    var work = Directory.CreateTempSubdirectory("notify-cluster-bench-");
    var processes = new List<Process>();
    try
    {
        var redis = topology == "1 node" ? await StartSingleAsync(work.FullName, processes) : await StartClusterAsync(work.FullName, processes);
        var redisPids = processes.Select(p => p.Id).ToList();
        var redisPorts = redis.Ports;
        var realtimePorts = Enumerable.Range(0, instances).Select(_ => FreePort()).ToList();
        foreach (var port in realtimePorts)
        {
            processes.Add(StartRealtime(port, redis.ConnectionString, Path.Combine(work.FullName, "notify.db")));
        }
        foreach (var port in realtimePorts)
        {
            await WaitAliveAsync(port);
        }
        var realtimePids = processes.Skip(redisPids.Count).Select(p => p.Id).ToList();

        var counters = new Counters();
        using var stop = new CancellationTokenSource();
        var clients = new List<Task>();
        var ready = new CountdownEvent(users);
        for (var u = 0; u < users; u++)
        {
            clients.Add(RunClientAsync($"bench-user-{u}", $"public:bench-{u % channelCount}", realtimePorts[u % instances], counters, ready, stop.Token));
        }
        if (!ready.Wait(TimeSpan.FromMinutes(3)))
        {
            throw new TimeoutException($"only {users - ready.CurrentCount} of {users} clients subscribed");
        }
        await using var mux = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var bus = new RedisMessageBus(mux, new RedisChannels(), new Fixed<ChannelOptions>(new ChannelOptions()), TimeProvider.System);
        var ids = new NotificationIds(TimeProvider.System);

        var idleCpu0 = redisPids.Select(CpuMs).ToList();
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        idle.Add((topology, [.. redisPids.Select((pid, i) => (CpuMs(pid) - idleCpu0[i]) / 10.0 / seconds)]));

        var personal = new List<Measure>();
        var channel = new List<Measure>();
        var broadcast = new List<Measure>();
        for (var round = 0; round < rounds; round++)
        {
            personal.Add(await MeasureAsync(counters, c => c.Personal, redisPids, realtimePids, publishers, async random =>
            {
                var user = $"bench-user-{random.Next(users)}";
                var frame = Frames.Serialize("notification", new Notification
                {
                    Id = ids.Next(), UserId = user, Type = "bench", Title = "t", Content = "c", CreatedAt = TimeProvider.System.GetUtcNow(),
                });
                await bus.PublishAsync(BusTopic.User(user), frame, CancellationToken.None);
                return 1;
            }));
            channel.Add(await MeasureAsync(counters, c => c.Channel, redisPids, realtimePids, publishers, async random =>
            {
                var c = random.Next(channelCount);
                var name = $"public:bench-{c}";
                await bus.PublishToChannelAsync(BusTopic.Channel(name), name, JsonSerializer.SerializeToElement(new { n = 1 }), CancellationToken.None);
                // Users u with u % channels == c subscribe to it.
                return users / channelCount + (c < users % channelCount ? 1 : 0);
            }));
            broadcast.Add(await MeasureAsync(counters, c => c.Broadcast, redisPids, realtimePids, 1, async _ =>
            {
                var next = Task.Delay(TimeSpan.FromSeconds(1 / broadcastRate));
                await bus.PublishToChannelAsync(BusTopic.Broadcast, "broadcast", JsonSerializer.SerializeToElement(new { n = 1 }), CancellationToken.None);
                await next;
                return users;
            }));
            Console.WriteLine($"{topology} round {round + 1}: personal {personal[^1]}, channel {channel[^1]}, broadcast {broadcast[^1]}");
        }
        results.Add((topology, "personal", personal, redisPids.Count));
        results.Add((topology, "channel", channel, redisPids.Count));
        results.Add((topology, "broadcast", broadcast, redisPids.Count));
        stop.Cancel();
        await Task.WhenAll(clients.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
        _ = redisPorts;
    }
    finally
    {
        foreach (var process in processes)
        {
            try { process.Kill(entireProcessTree: true); process.WaitForExit(10_000); } catch (InvalidOperationException) { }
            process.Dispose();
        }
        try { work.Delete(recursive: true); } catch (IOException) { }
    }
}

var loadAfter = File.ReadAllText("/proc/loadavg").Trim();
report.AppendLine(CultureInfo.InvariantCulture, $"# Cluster benchmark (raw)\n");
report.AppendLine(CultureInfo.InvariantCulture, $"{instances} Realtime instances, {users} WebSocket users (one connection each, spread round-robin over the instances), each subscribed to one of {channelCount} channels; {publishers} publishers in a closed loop for {seconds} s per phase; {rounds} rounds, medians shown. Machine: {Environment.ProcessorCount} cores shared with other builds; load average before: {loadBefore}; after: {loadAfter}. Measured {TimeProvider.System.GetUtcNow():yyyy-MM-dd HH:mm} UTC.\n");
report.AppendLine("| topology | phase | published/s | deliveries/s | delivered/expected | Redis CPU ms per 1,000 published (per node) | Redis CPU % per node | Realtime CPU ms per 1,000 deliveries |");
report.AppendLine("|---|---|---:|---:|---:|---|---|---:|");
foreach (var (topology, phase, measures, _) in results)
{
    var m = Median(measures);
    report.AppendLine(CultureInfo.InvariantCulture, $"| {topology} | {phase} | {m.PublishedPerSecond:N0} | {m.DeliveredPerSecond:N0} | {m.DeliveredRatio:P1} | {string.Join(" / ", m.RedisCpuMsPerThousand.Select(v => v.ToString("F1", CultureInfo.InvariantCulture)))} | {string.Join(" / ", m.RedisCpuPercent.Select(v => v.ToString("F0", CultureInfo.InvariantCulture)))} | {m.RealtimeCpuMsPerThousand:F1} |");
}
report.AppendLine("\nIdle Redis CPU % per node (no publications, clients connected):\n");
foreach (var (topology, cpu) in idle)
{
    report.AppendLine(CultureInfo.InvariantCulture, $"- {topology}: {string.Join(" / ", cpu.Select(v => v.ToString("F1", CultureInfo.InvariantCulture)))}");
}
report.AppendLine("\nEvery round:\n");
foreach (var (topology, phase, measures, _) in results)
{
    foreach (var m in measures)
    {
        report.AppendLine(CultureInfo.InvariantCulture, $"- {topology} {phase}: {m}");
    }
}
Directory.CreateDirectory(Path.GetDirectoryName(output)!);
File.WriteAllText(output, report.ToString());
Console.WriteLine(report);
return 0;

async Task<Measure> MeasureAsync(Counters counters, Func<Counters, long> delivered, List<int> redisPids, List<int> realtimePids, int concurrency, Func<Random, Task<int>> publishOne)
{
    var before = delivered(counters);
    var redisCpu0 = redisPids.Select(CpuMs).ToList();
    var realtimeCpu0 = realtimePids.Sum(CpuMs);
    var clock = Stopwatch.StartNew();
    long published = 0, expected = 0;
    var end = TimeSpan.FromSeconds(seconds);
    await Task.WhenAll(Enumerable.Range(0, concurrency).Select(p => Task.Run(async () =>
    {
        var random = new Random(p);
        while (clock.Elapsed < end)
        {
            var receivers = await publishOne(random);
            Interlocked.Increment(ref published);
            Interlocked.Add(ref expected, receivers);
        }
    })));
    var publishTime = clock.Elapsed.TotalSeconds;
    // Drain: until every expected delivery arrived, or 10 s without progress.
    var last = delivered(counters);
    var lastChange = Stopwatch.StartNew();
    while (delivered(counters) - before < expected && lastChange.Elapsed < TimeSpan.FromSeconds(10))
    {
        await Task.Delay(20);
        if (delivered(counters) != last)
        {
            last = delivered(counters);
            lastChange.Restart();
        }
    }
    var elapsed = clock.Elapsed.TotalSeconds - (delivered(counters) - before >= expected ? 0 : lastChange.Elapsed.TotalSeconds);
    var got = delivered(counters) - before;
    var redisCpu = redisPids.Select((pid, i) => CpuMs(pid) - redisCpu0[i]).ToList();
    var realtimeCpu = realtimePids.Sum(CpuMs) - realtimeCpu0;
    return new Measure(published / publishTime, got / elapsed, (double)got / Math.Max(1, expected),
        [.. redisCpu.Select(ms => ms * 1000.0 / Math.Max(1, published))], [.. redisCpu.Select(ms => ms / 10.0 / elapsed)],
        realtimeCpu * 1000.0 / Math.Max(1, got));
}

static Measure Median(List<Measure> measures)
{
    var ordered = measures.OrderBy(m => m.DeliveredPerSecond).ToList();
    return ordered[ordered.Count / 2];
}

// utime + stime of a process, in ms (clock ticks of 10 ms).
static long CpuMs(int pid)
{
    try
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) * 10;
    }
    catch (IOException)
    {
        return 0;
    }
}

async Task RunClientAsync(string user, string channel, int port, Counters counters, CountdownEvent ready, CancellationToken cancellationToken)
{
    using var socket = new ClientWebSocket();
    var token = tokens.Issue(user, [], TimeSpan.FromHours(2)).Token;
    await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/api/ws/notifications?token={Uri.EscapeDataString(token)}"), cancellationToken);
    var buffer = new byte[64 * 1024];
    using var message = new MemoryStream();
    try
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var result = await socket.ReceiveAsync(buffer, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return;
            }
            message.Write(buffer, 0, result.Count);
            if (!result.EndOfMessage)
            {
                continue;
            }
            var text = Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length);
            message.SetLength(0);
            if (text.StartsWith("{\"type\":\"notification\"", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref counters.Personal);
            }
            else if (text.StartsWith("{\"type\":\"message\",\"data\":{\"channel\":\"broadcast\"", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref counters.Broadcast);
            }
            else if (text.StartsWith("{\"type\":\"message\"", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref counters.Channel);
            }
            else if (text.StartsWith("{\"type\":\"connected\"", StringComparison.Ordinal))
            {
                await socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(new { type = "subscribe", channel }), WebSocketMessageType.Text, true, cancellationToken);
            }
            else if (text.StartsWith("{\"type\":\"subscribed\"", StringComparison.Ordinal))
            {
                ready.Signal();
            }
        }
    }
    catch (OperationCanceledException)
    {
    }
}

async Task<(string ConnectionString, List<int> Ports)> StartSingleAsync(string dir, List<Process> processes)
{
    var port = FreePort();
    processes.Add(StartRedis(dir, port, null));
    await WaitRedisAsync(port);
    return ($"127.0.0.1:{port},password={password}", [port]);
}

async Task<(string ConnectionString, List<int> Ports)> StartClusterAsync(string dir, List<Process> processes)
{
    var ports = Enumerable.Range(0, 6).Select(_ => FreePort()).ToList();
    foreach (var port in ports)
    {
        processes.Add(StartRedis(dir, port, FreePort()));
    }
    foreach (var port in ports)
    {
        await WaitRedisAsync(port);
    }
    var create = Process.Start(new ProcessStartInfo("redis-cli", ["-a", password, "--no-auth-warning", "--cluster", "create", .. ports.Select(p => $"127.0.0.1:{p}"), "--cluster-replicas", "1", "--cluster-yes"])
    {
        RedirectStandardOutput = true,
    })!;
    await create.StandardOutput.ReadToEndAsync();
    await create.WaitForExitAsync();
    foreach (var port in ports)
    {
        while (!((string?)await NodeAsync(port, "CLUSTER", "INFO") ?? "").Contains("cluster_state:ok", StringComparison.Ordinal))
        {
            await Task.Delay(100);
        }
    }
    await Task.Delay(2000); // every node learns every other's role
    return (string.Join(',', ports.Select(p => $"127.0.0.1:{p}")) + $",password={password}", ports);
}

static async Task<RedisResult?> NodeAsync(int port, string command, params object[] args)
{
    try
    {
        await using var mux = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port},password={password},abortConnect=false,connectTimeout=1000");
        return await mux.GetServer(mux.GetEndPoints()[0]).ExecuteAsync(command, args);
    }
    catch (RedisException)
    {
        return null;
    }
}

static async Task WaitRedisAsync(int port)
{
    var clock = Stopwatch.StartNew();
    while (await NodeAsync(port, "PING") is null)
    {
        if (clock.Elapsed > TimeSpan.FromSeconds(30))
        {
            throw new TimeoutException($"redis-server on {port} did not start");
        }
        await Task.Delay(100);
    }
}

Process StartRedis(string dir, int port, int? busPort)
{
    List<string> args = ["--port", $"{port}", "--bind", "127.0.0.1", "--requirepass", password, "--masterauth", password, "--save", "", "--appendonly", "no",
        "--dir", dir, "--dbfilename", $"dump-{port}.rdb"];
    if (busPort is { } bus)
    {
        args.AddRange(["--cluster-enabled", "yes", "--cluster-port", $"{bus}", "--cluster-config-file", Path.Combine(dir, $"nodes-{port}.conf"), "--cluster-node-timeout", "5000"]);
    }
    return Process.Start(new ProcessStartInfo("redis-server", args) { RedirectStandardOutput = true })!;
}

Process StartRealtime(int port, string redis, string sqlite)
{
    var dll = Path.Combine(root, "Notify.Realtime", "bin", configuration, "net10.0", "Notify.Realtime.dll");
    var psi = new ProcessStartInfo("dotnet", [dll]) { WorkingDirectory = Path.GetDirectoryName(dll)!, RedirectStandardOutput = true, RedirectStandardError = true };
    psi.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
    psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
    psi.Environment["ConnectionStrings__redis"] = redis + ",abortConnect=false";
    psi.Environment["Store__SqlitePath"] = sqlite;
    psi.Environment["Auth__SigningKey"] = signingKey;
    psi.Environment["Logging__LogLevel__Default"] = "Warning";
    psi.Environment["OTEL_SDK_DISABLED"] = "true";
    var process = Process.Start(psi)!;
    process.OutputDataReceived += (_, _) => { };
    process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { Console.Error.WriteLine($"realtime {port}: {e.Data}"); } };
    process.BeginOutputReadLine();
    process.BeginErrorReadLine();
    return process;
}

static async Task WaitAliveAsync(int port)
{
    using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
    var clock = Stopwatch.StartNew();
    while (true)
    {
        try
        {
            if ((await http.GetAsync($"http://127.0.0.1:{port}/alive")).IsSuccessStatusCode)
            {
                return;
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
        }
        if (clock.Elapsed > TimeSpan.FromMinutes(2))
        {
            throw new TimeoutException($"Realtime on {port} did not start");
        }
        await Task.Delay(200);
    }
}

static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}

static string FindRoot()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Notify.sln")))
    {
        dir = dir.Parent;
    }
    return dir?.FullName ?? throw new InvalidOperationException("Notify.sln not found above the benchmark");
}

double Arg(string name, double fallback) =>
    ArgText(name) is { } text ? double.Parse(text, CultureInfo.InvariantCulture) : fallback;

string? ArgText(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

internal sealed class Counters
{
    public long Personal;
    public long Channel;
    public long Broadcast;
}

internal sealed record Measure(double PublishedPerSecond, double DeliveredPerSecond, double DeliveredRatio, double[] RedisCpuMsPerThousand, double[] RedisCpuPercent, double RealtimeCpuMsPerThousand)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{PublishedPerSecond:F0} published/s, {DeliveredPerSecond:F0} deliveries/s ({DeliveredRatio:P1} of expected), Redis CPU ms/1000 published [{string.Join(", ", RedisCpuMsPerThousand.Select(v => v.ToString("F1", CultureInfo.InvariantCulture)))}], Redis CPU % [{string.Join(", ", RedisCpuPercent.Select(v => v.ToString("F0", CultureInfo.InvariantCulture)))}], Realtime CPU ms/1000 deliveries {RealtimeCpuMsPerThousand:F1}");
}

internal sealed class Fixed<T>(T value) : IOptionsMonitor<T>
{
    public T CurrentValue => value;
    public T Get(string? name) => value;
    public IDisposable? OnChange(Action<T, string?> listener) => null;
}
