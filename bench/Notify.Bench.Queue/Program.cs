// Queue throughput and pickup latency through real Worker processes: enqueue (Lua script on Redis)
// → dequeue by a Worker → run the `noop` handler → ack, with 1, 2 and 4 Worker processes. Starts its own
// redis-server and Workers (from the build output) and writes a Markdown table.
//
//   dotnet run -c Release --project bench/Notify.Bench.Queue -- [--tasks 20000] [--latency-tasks 1000] [--workers 1,2,4] [--out bench/results/queue.md]
//
// Throughput: --tasks noop tasks enqueued by 16 concurrent producers (64 users) while the Workers drain
// them; tasks/s = tasks / (first enqueue → last completion). Pickup latency, with free slots: tasks
// enqueued one at a time, each after the previous one started; latency = enqueue call → the task's
// `started` progress frame arriving back at the benchmark over Redis pub/sub (so it includes the frame's
// own trip). Every phase has a deadline; a run that misses it is reported as such.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Options;
using Notify.Core.Messaging;
using Notify.Core.Tasks;
using StackExchange.Redis;

var tasks = Arg("--tasks", 20_000);
var latencyTasks = Arg("--latency-tasks", 1_000);
var workerCounts = (ArgText("--workers") ?? "1,2,4").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
var root = FindRoot();
var output = Path.GetFullPath(ArgText("--out") ?? Path.Combine(root, "bench", "results", "queue.md"));
var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
var workerDll = Path.Combine(root, "Notify.Worker", "bin", configuration, "net10.0", "Notify.Worker.dll");
var deadline = TimeSpan.FromSeconds(Arg("--deadline-seconds", 120));

var work = Directory.CreateTempSubdirectory("notify-bench-queue-");
var redisPort = FreePort();
using var redis = Start("redis-server", work.FullName, [], "--port", $"{redisPort}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", work.FullName);
var connection = $"127.0.0.1:{redisPort},abortConnect=false";
var rows = new List<string>();
var ports = new ConcurrentDictionary<(string, int), int>();
try
{
    await using var mux = await ConnectAsync(connection);
    foreach (var count in workerCounts)
    {
        var prefix = $"bq:{count}:{Guid.NewGuid():N}"[..20];
        var options = new QueueOptions { KeyPrefix = prefix, MaxQueuedPerUser = 1_000_000 };
        var channels = new RedisChannels();
        var queue = new RedisTaskQueue(mux, channels, new Fixed<QueueOptions>(options), TimeProvider.System);
        var workers = new List<Process>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                workers.Add(StartWorker(i, prefix));
            }
            await Task.WhenAll(workers.Select((_, i) => WaitAliveAsync(WorkerPort(prefix, i))));

            // Warm-up (JIT, connections, script cache), discarded.
            await ThroughputAsync(queue, Math.Min(2_000, tasks), deadline);
            var t = await ThroughputAsync(queue, tasks, deadline);
            var l = await LatencyAsync(mux, channels, queue, latencyTasks, deadline);
            var row = string.Create(CultureInfo.InvariantCulture,
                $"| {count} | {t.Tasks:N0} | {(t.Completed ? "" : "**deadline missed** ")}{t.Tasks / t.Elapsed.TotalSeconds:N0} | {t.PickupP50:N0} | {t.PickupP99:N0} | {l.Count:N0} | {l.P(0.50):N2} | {l.P(0.99):N2} | {l.P(1.0):N2} |");
            Console.WriteLine(row);
            rows.Add(row);
        }
        finally
        {
            foreach (var w in workers)
            {
                Stop(w);
            }
        }
    }
}
finally
{
    Stop(redis);
    try { work.Delete(recursive: true); } catch (IOException) { }
}

var md = new StringBuilder();
md.AppendLine("# Task queue benchmark");
md.AppendLine();
md.AppendLine(CultureInfo.InvariantCulture, $"Real Notify.Worker processes ({configuration} build) on one redis-server; the benchmark enqueues through `RedisTaskQueue` (one Lua script per task) and the Workers dequeue, run the `noop` handler and ack (a `started` progress frame and a `completed` frame per task, both published on the task's Redis channel with its snapshot).");
md.AppendLine("Worker settings: `Worker:MaxParallelTasks=128`, `Worker:DequeueBatchSize=64`, `Queue:GlobalConcurrency=10000`, `Queue:PerUserConcurrency=1000`; 64 users.");
md.AppendLine();
md.AppendLine(CultureInfo.InvariantCulture, $"- **Throughput**: {tasks:N0} tasks enqueued by 16 concurrent producers while the Workers drain them; tasks/s = tasks / (first enqueue → last completion, the queue's completed counter). *Backlog pickup* p50/p99 = a task's `started_at − created_at` (ms; stamped by the enqueuing and the dequeuing process, same machine clock) under that load, i.e. mostly time spent waiting in the backlog.");
md.AppendLine(CultureInfo.InvariantCulture, $"- **Pickup latency with free slots**: {latencyTasks:N0} tasks enqueued one at a time, each after the previous one started; latency = enqueue call → the task's `started` frame back at the benchmark over pub/sub (ms, includes that frame's trip).");
md.AppendLine(CultureInfo.InvariantCulture, $"- Machine: {Environment.ProcessorCount} cores shared by the benchmark, the Workers and redis-server; {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}. Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.");
if (File.Exists("/proc/loadavg"))
{
    md.AppendLine(CultureInfo.InvariantCulture, $"- Load average when finished (1/5/15 min): {string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3))}; other processes on the machine compete for the same cores.");
}
md.AppendLine();
md.AppendLine(CultureInfo.InvariantCulture, $"Command: `dotnet run -c Release --project bench/Notify.Bench.Queue -- --tasks {tasks} --latency-tasks {latencyTasks} --workers {string.Join(',', workerCounts)}`");
md.AppendLine();
md.AppendLine("Targets: ≥ 2,000 tasks/s with one Worker; pickup p99 < 250 ms with free slots.");
md.AppendLine();
md.AppendLine("| workers | tasks | tasks/s | backlog pickup p50 ms | backlog pickup p99 ms | latency samples | pickup p50 ms | pickup p99 ms | pickup max ms |");
md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
foreach (var row in rows)
{
    md.AppendLine(row);
}
md.AppendLine();
md.AppendLine(CultureInfo.InvariantCulture, $"Reading: all processes share the same {Environment.ProcessorCount} cores, so more Workers do not add CPU here; they add processes competing with redis-server and the producers. With Workers on their own machines the rate grows until redis-server (one thread, about three scripts per task) saturates.");
Directory.CreateDirectory(Path.GetDirectoryName(output)!);
await File.WriteAllTextAsync(output, md.ToString());
Console.WriteLine($"written {output}");
return 0;

async Task<ThroughputResult> ThroughputAsync(RedisTaskQueue queue, int n, TimeSpan limit)
{
    var before = (await queue.GetStatsAsync(CancellationToken.None)).Completed;
    var ids = new string[n];
    var next = -1;
    var clock = Stopwatch.StartNew();
    var producers = Enumerable.Range(0, 16).Select(async _ =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) < n)
        {
            ids[i] = (await queue.EnqueueAsync($"user{i % 64}", "noop", null, CancellationToken.None)).Id;
        }
    }).ToArray();
    await Task.WhenAll(producers);
    var completed = false;
    while (clock.Elapsed < limit)
    {
        if ((await queue.GetStatsAsync(CancellationToken.None)).Completed - before >= n)
        {
            completed = true;
            break;
        }
        await Task.Delay(2);
    }
    var elapsed = clock.Elapsed;

    // Backlog pickup from the records of a sample of tasks.
    var sample = ids.Where((_, i) => i % Math.Max(1, n / 2_000) == 0).ToArray();
    var pickups = new List<double>();
    foreach (var chunk in sample.Chunk(200))
    {
        var records = await Task.WhenAll(chunk.Select(id => queue.GetAsync(id, CancellationToken.None)));
        pickups.AddRange(records.Where(r => r?.StartedAt is not null).Select(r => (r!.StartedAt!.Value - r.CreatedAt).TotalMilliseconds));
    }
    pickups.Sort();
    return new ThroughputResult(n, elapsed, completed, Percentile(pickups, 0.50), Percentile(pickups, 0.99));
}

async Task<LatencyResult> LatencyAsync(ConnectionMultiplexer mux, RedisChannels channels, RedisTaskQueue queue, int n, TimeSpan limit)
{
    var waiting = new ConcurrentDictionary<string, TaskCompletionSource<long>>();
    var early = new ConcurrentDictionary<string, long>();
    var prefix = channels.For(BusTopic.Task(""));
    var subscriber = mux.GetSubscriber();
    var pattern = RedisChannel.Pattern(channels.For(BusTopic.Task("*")));
    Action<RedisChannel, RedisValue> handler = (channel, value) =>
    {
        var now = Stopwatch.GetTimestamp();
        if (!System.Text.Encoding.UTF8.GetString(RedisMessageBus.FrameOf((byte[])value!).Span).Contains("\"started\"", StringComparison.Ordinal))
        {
            return;
        }
        var id = channel.ToString()[prefix.Length..];
        if (waiting.TryGetValue(id, out var tcs))
        {
            tcs.TrySetResult(now);
        }
        else
        {
            early[id] = now;
        }
    };
    await subscriber.SubscribeAsync(pattern, handler);
    var samples = new List<double>(n);
    var clock = Stopwatch.StartNew();
    try
    {
        for (var i = 0; i < n && clock.Elapsed < limit; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var task = await queue.EnqueueAsync($"lat{i % 64}", "noop", null, CancellationToken.None);
            var tcs = waiting.GetOrAdd(task.Id, _ => new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously));
            if (early.TryRemove(task.Id, out var seen))
            {
                tcs.TrySetResult(seen);
            }
            try
            {
                var arrived = await tcs.Task.WaitAsync(TimeSpan.FromSeconds(10));
                samples.Add(Stopwatch.GetElapsedTime(started, arrived).TotalMilliseconds);
            }
            catch (TimeoutException)
            {
                samples.Add(10_000);
            }
            waiting.TryRemove(task.Id, out _);
        }
    }
    finally
    {
        await subscriber.UnsubscribeAsync(pattern, handler);
    }
    samples.Sort();
    return new LatencyResult(samples);
}

Process StartWorker(int index, string prefix) => Start("dotnet", Path.GetDirectoryName(workerDll)!, new Dictionary<string, string>
{
    ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{WorkerPort(prefix, index)}",
    ["ASPNETCORE_ENVIRONMENT"] = "Production",
    ["ConnectionStrings__redis"] = connection,
    ["Store__SqlitePath"] = Path.Combine(work.FullName, "notify.db"),
    ["Auth__SigningKey"] = "bench-signing-key-0123456789abcdef0123456789",
    ["Queue__KeyPrefix"] = prefix,
    // The benchmark measures the queue with the built-in noop kind, off by default outside Development.
    ["Queue__EnableDemoKinds"] = "true",
    ["Queue__GlobalConcurrency"] = "10000",
    ["Queue__PerUserConcurrency"] = "1000",
    ["Worker__MaxParallelTasks"] = "128",
    ["Worker__DequeueBatchSize"] = "64",
    ["Worker__HangfirePrefix"] = prefix + ":hf:",
    ["Logging__LogLevel__Default"] = "Warning",
}, workerDll);

int WorkerPort(string prefix, int index) => ports.GetOrAdd((prefix, index), _ => FreePort());

static async Task<ConnectionMultiplexer> ConnectAsync(string configuration)
{
    var watch = Stopwatch.StartNew();
    while (true)
    {
        try
        {
            var mux = await ConnectionMultiplexer.ConnectAsync(configuration);
            await mux.GetDatabase().PingAsync();
            return mux;
        }
        catch (RedisConnectionException) when (watch.Elapsed < TimeSpan.FromSeconds(15))
        {
            await Task.Delay(100);
        }
    }
}

static async Task WaitAliveAsync(int port)
{
    using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
    var watch = Stopwatch.StartNew();
    while (watch.Elapsed < TimeSpan.FromSeconds(60))
    {
        try
        {
            if ((await http.GetAsync(new Uri($"http://127.0.0.1:{port}/health"))).IsSuccessStatusCode)
            {
                return;
            }
        }
        catch (HttpRequestException)
        {
        }
        catch (TaskCanceledException)
        {
        }
        await Task.Delay(100);
    }
    throw new TimeoutException($"worker on {port} not healthy");
}

static double Percentile(List<double> sorted, double p) =>
    sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

static Process Start(string file, string directory, Dictionary<string, string> env, params string[] args)
{
    var psi = new ProcessStartInfo(file) { WorkingDirectory = directory, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
    foreach (var a in args)
    {
        psi.ArgumentList.Add(a);
    }
    foreach (var (k, v) in env)
    {
        psi.Environment[k] = v;
    }
    var p = Process.Start(psi)!;
    p.OutputDataReceived += (_, e) => { if (e.Data?.Contains("fail", StringComparison.OrdinalIgnoreCase) == true) { Console.Error.WriteLine(e.Data); } };
    p.ErrorDataReceived += (_, e) => { if (e.Data is not null) { Console.Error.WriteLine(e.Data); } };
    p.BeginOutputReadLine();
    p.BeginErrorReadLine();
    return p;
}

static void Stop(Process p)
{
    try
    {
        if (!p.HasExited)
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit(10_000);
        }
    }
    catch (InvalidOperationException)
    {
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
    return dir?.FullName ?? throw new InvalidOperationException("Notify.sln not found");
}

int Arg(string name, int fallback) => ArgText(name) is { } s ? int.Parse(s, CultureInfo.InvariantCulture) : fallback;

string? ArgText(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

internal sealed record ThroughputResult(int Tasks, TimeSpan Elapsed, bool Completed, double PickupP50, double PickupP99);

internal sealed record LatencyResult(List<double> Sorted)
{
    public int Count => Sorted.Count;

    public double P(double p) => Sorted.Count == 0 ? double.NaN : Sorted[Math.Clamp((int)Math.Ceiling(p * Sorted.Count) - 1, 0, Sorted.Count - 1)];
}

internal sealed class Fixed<T>(T value) : IOptionsMonitor<T>
{
    public T CurrentValue => value;
    public T Get(string? name) => value;
    public IDisposable? OnChange(Action<T, string?> listener) => null;
}
