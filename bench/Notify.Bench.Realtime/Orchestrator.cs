using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Notify.Core.Json;
using Notify.Core.Messaging;
using Notify.Core.Notifications;
using Notify.Core.Storage;
using Notify.Core.Storage.Sqlite;
using StackExchange.Redis;

namespace Notify.Bench.Realtime;

/// <summary>Runs every scenario against each target and writes the Markdown report.</summary>
internal static class Orchestrator
{
    private const string SigningKey = "bench-signing-key-0123456789abcdef0123456789";
    private const string ApiKey = "bench-api-key-0123456789abcdef0123456789";
    private const int PerWorker = 5_000;

    public static async Task<int> RunAsync(string[] args)
    {
        var connections = Int(args, "--connections", 19_000);
        var fanout = Int(args, "--fanout", 10_000);
        var seconds = Int(args, "--seconds", 10);
        var rates = (Text(args, "--rates") ?? "500,1000,2000,4000").Split(',').Select(int.Parse).ToArray();
        var targets = (Text(args, "--targets") ?? "notify,signalr,floor").Split(',');
        var rounds = Int(args, "--rounds", 3);
        var plan = new Plan(Int(args, "--hold", 25), Int(args, "--broadcasts", 50), Int(args, "--senders", 8), args.Contains("--full"), Int(args, "--warmup", 0));
        var root = FindRoot();
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var output = Path.GetFullPath(Text(args, "--out") ?? Path.Combine(root, "bench", "results", "realtime.md"));
        var apiDll = Text(args, "--api-dll");
        var idleOnly = args.Contains("--idle-only");
        var probes = new Probes(Text(args, "--perf"), Text(args, "--counters"), Text(args, "--baseline-dll"))
        {
            // Extra environment of every server (e.g. GC settings), KEY=VALUE;KEY=VALUE.
            Environment = (Text(args, "--server-env") ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries)
                .Select(pair => pair.Split('=', 2)).ToDictionary(pair => pair[0], pair => pair[1]),
        };

        var report = new StringBuilder();
        report.AppendLine("# Realtime benchmark").AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"Machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; load clients on loopback, {PerWorker:N0} per load process.");
        report.AppendLine(CultureInfo.InvariantCulture, $"Command: `dotnet run -c {configuration} --project bench/Notify.Bench.Realtime -- {string.Join(' ', args)}`");
        report.AppendLine(CultureInfo.InvariantCulture, $"Run at {DateTimeOffset.UtcNow:u}; load average before: {LoadAverage()}.").AppendLine();

        // Interleaved rounds: every round runs each server once (a fresh process each time), the order
        // rotating, so a noisy minute on the shared machine lands on every server alike.
        var byTarget = targets.ToDictionary(t => t, _ => new List<TargetResult>());
        for (var round = 0; round < rounds; round++)
        {
            foreach (var target in targets.Skip(round % targets.Length).Concat(targets.Take(round % targets.Length)))
            {
                Console.WriteLine($"=== round {round + 1}: {target} (load {LoadAverage()})");
                var one = await RunTargetAsync(target, root, configuration, connections, fanout, rates, seconds, apiDll, idleOnly, plan, probes with { Round = round + 1 });
                one.Load = LoadAverage();
                one.Round = round + 1;
                byTarget[target].Add(one);
            }
        }
        report.AppendLine(CultureInfo.InvariantCulture, $"{rounds} interleaved rounds; {connections:N0} idle connections held {plan.HoldSeconds} s (each its own user), then {fanout:N0} kept for {plan.Broadcasts} broadcasts from {plan.Senders} concurrent senders. Medians with the lowest–highest round.").AppendLine();
        // Deliveries per server CPU-second: what the server does with the CPU it gets. On a shared machine the
        // wall-clock rate mostly says how much CPU the other builds left it; this one does not.
        report.AppendLine("| server | RSS growth per idle connection | broadcast deliveries/s | each round (deliveries/s) | deliveries per server CPU-second | CPU s in the broadcast rounds: server / load clients |");
        report.AppendLine("|---|---|---|---|---|---|");
        foreach (var target in targets)
        {
            var runs = byTarget[target];
            report.AppendLine(CultureInfo.InvariantCulture,
                $"| {runs[0].Name} | {Spread(runs.Select(r => r.RssPerConnection), "F1")} KiB | {Spread(runs.Select(r => r.DeliveriesPerSecond), "N0")} | {string.Join(", ", runs.Select(r => (r.DeliveriesPerSecond / 1000).ToString("F0", CultureInfo.InvariantCulture) + "k"))} | {Spread(runs.Select(r => r.DeliveriesPerCpuSecond), "N0")} | {string.Join(", ", runs.Select(r => $"{r.ServerCpu:F1} / {r.ClientCpu:F1}"))} |");
        }
        report.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"Load average after each run: {string.Join("; ", targets.Select(t => t + ": " + string.Join(", ", byTarget[t].Select(r => r.Load))))}.").AppendLine();
        if (!idleOnly)
        {
            // Where each burst's wall-clock time went: a server that used less than the machine's cores while its
            // threads waited on the run queue was held back by other processes, not by its own work.
            report.AppendLine("Each broadcast burst, in the order run: the server's CPU, the cores it used on average (CPU ÷ wall), the time its threads were ready but waited for a core (run queue, /proc/pid/task/*/schedstat), its thread count, and the same for the load clients:").AppendLine();
            report.AppendLine("| server | round | deliveries/s | burst s | server CPU s | server cores used | server run-queue wait s | server threads before → after | server GCs gen0 / gen1 / gen2, pause (peers) | load clients CPU s / run-queue wait s | load average after |");
            report.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|");
            foreach (var run in byTarget.Values.SelectMany(r => r).OrderBy(r => r.Round))
            {
                report.AppendLine(CultureInfo.InvariantCulture,
                    $"| {run.Name} | {run.Round} | {run.DeliveriesPerSecond:N0} | {run.BurstSeconds:F2} | {run.ServerCpu:F2} | {run.ServerCpu / Math.Max(run.BurstSeconds, 1e-9):F2} | {run.ServerWait:F2} | {run.ThreadsBefore} → {run.ThreadsAfter} | {run.Gc} | {run.ClientCpu:F2} / {run.ClientWait:F2} | {run.Load} |");
            }
            report.AppendLine();
        }
        report.AppendLine("Details of the last round:").AppendLine();
        var results = targets.Select(t => byTarget[t][^1]).ToList();

        report.AppendLine("| scenario | " + string.Join(" | ", results.Select(r => r.Name)) + " |");
        report.AppendLine("|---|" + string.Concat(results.Select(_ => "---|")));
        foreach (var key in results[0].Rows.Keys)
        {
            report.AppendLine("| " + key + " | " + string.Join(" | ", results.Select(r => r.Rows.GetValueOrDefault(key, "—"))) + " |");
        }
        report.AppendLine();
        foreach (var result in results)
        {
            foreach (var note in result.Notes)
            {
                report.AppendLine(CultureInfo.InvariantCulture, $"- {result.Name}: {note}");
            }
        }
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        await File.WriteAllTextAsync(output, report.ToString());
        Console.WriteLine(report);
        return 0;
    }

    private static string Spread(IEnumerable<double> values, string format)
    {
        var sorted = values.Order().ToArray();
        var median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        return $"{median.ToString(format, CultureInfo.InvariantCulture)} ({sorted[0].ToString(format, CultureInfo.InvariantCulture)}–{sorted[^1].ToString(format, CultureInfo.InvariantCulture)})";
    }

    private static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    private static double CpuSeconds(IEnumerable<Process> processes) => processes.Sum(p =>
    {
        try
        {
            p.Refresh();
            return p.TotalProcessorTime.TotalSeconds;
        }
        catch (InvalidOperationException)
        {
            return 0;
        }
    });

    private static async Task<TargetResult> RunTargetAsync(string named, string root, string configuration, int connections, int fanout, int[] rates, int seconds, string? apiDll, bool idleOnly, Plan plan, Probes probes)
    {
        // A "-wks" or "-svr" suffix runs the server with workstation or server GC instead of its own setting.
        var gc = named.EndsWith("-wks", StringComparison.Ordinal) ? "0" : named.EndsWith("-svr", StringComparison.Ordinal) ? "1" : null;
        var target = gc is null ? named : named[..^4];
        // "notify-baseline": Notify.Realtime built elsewhere (--baseline-dll), e.g. before a change, driven exactly like "notify".
        var baselineBuild = target == "notify-baseline";
        if (baselineBuild)
        {
            target = "notify";
        }
        var result = new TargetResult(target switch
        {
            "notify" when baselineBuild => "Notify.Realtime (baseline build)",
            "notify" => "Notify.Realtime",
            "notify-pipeline" => "Notify.Realtime, upgraded through the request pipeline (Realtime:DirectUpgrade=false)",
            "notify-sse" => "Notify.Realtime over SSE",
            "signalr" => "SignalR hub (JSON, Clients.All.SendAsync, IUserIdProvider)",
            "floor-upgrade" => "floor, upgraded by a Kestrel connection middleware (no HttpContext)",
            _ => "bare Kestrel WebSocket, one bounded Channel per connection (floor)",
        } + (gc switch { "0" => ", workstation GC", "1" => ", server GC", _ => "" }));
        var serverEnvironment = new Dictionary<string, string>(probes.Environment);
        foreach (var (key, value) in probes.Environment)
        {
            result.Notes.Add($"server environment {key}={value}");
        }
        if (gc is not null)
        {
            serverEnvironment["DOTNET_gcServer"] = gc;
        }
        if (probes.PerfDirectory is not null)
        {
            // JIT-compiled code gets names in perf's report (/tmp/perf-<pid>.map); perf reads the map only for
            // code that is not double-mapped.
            serverEnvironment["DOTNET_PerfMapEnabled"] = "1";
            serverEnvironment["DOTNET_EnableWriteXorExecute"] = "0";
        }
        var work = Directory.CreateTempSubdirectory("notify-bench-rt-");
        var processes = new List<Process>();
        var workers = new List<Worker>();
        ConnectionMultiplexer? redis = null;
        SqliteDatabase? database = null;
        try
        {
            var serverPort = FreePort();
            int? apiPort = null;
            Process server;
            if (target.StartsWith("notify", StringComparison.Ordinal))
            {
                var redisPort = FreePort();
                processes.Add(Start("redis-server", work.FullName, [], "--port", $"{redisPort}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", work.FullName));
                var redisConnection = $"127.0.0.1:{redisPort},abortConnect=false";
                var sqlite = Path.Combine(work.FullName, "notify.db");
                var dll = baselineBuild
                    ? Path.GetFullPath(probes.BaselineDll ?? throw new ArgumentException("notify-baseline needs --baseline-dll"))
                    : Path.Combine(root, "Notify.Realtime", "bin", configuration, "net10.0", "Notify.Realtime.dll");
                var environment = new Dictionary<string, string>(serverEnvironment)
                {
                    ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{serverPort}",
                    ["ConnectionStrings__redis"] = redisConnection,
                    ["Store__SqlitePath"] = sqlite,
                    ["Auth__SigningKey"] = SigningKey,
                    // Heartbeats every 10 s on both transports, as the peers do.
                    ["Realtime__HeartbeatInterval"] = "00:00:10",
                    ["Sse__HeartbeatIntervalSeconds"] = "10",
                    // The benchmark measures how many connections one instance holds: no instance cap below that.
                    ["Realtime__MaxConnections"] = "1000000",
                    ["Logging__LogLevel__Default"] = "Warning",
                };
                if (target == "notify-pipeline")
                {
                    environment["Realtime__DirectUpgrade"] = "false";
                }
                server = Start("dotnet", Path.GetDirectoryName(dll)!, environment, dll);
                processes.Add(server);
                await WaitAliveAsync(serverPort);
                redis = await ConnectionMultiplexer.ConnectAsync(redisConnection);
                database = new SqliteDatabase(sqlite, TimeSpan.FromSeconds(10), 8, SqliteSynchronousMode.Normal);
                if (apiDll is not null && File.Exists(apiDll))
                {
                    apiPort = FreePort();
                    processes.Add(Start("dotnet", Path.GetDirectoryName(apiDll)!, new()
                    {
                        ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{apiPort}",
                        ["ConnectionStrings__redis"] = redisConnection,
                        ["Store__SqlitePath"] = sqlite,
                        ["Auth__SigningKey"] = SigningKey,
                        ["Auth__ApiKeys__bench"] = ApiKey,
                        ["Api__ApiKeyCreatesPerWindow"] = "10000000",
                        ["Logging__LogLevel__Default"] = "Warning",
                    }, apiDll));
                    try
                    {
                        await WaitAliveAsync(apiPort.Value);
                    }
                    catch (TimeoutException)
                    {
                        result.Notes.Add("the Api did not start; personal notifications were created in-process instead");
                        apiPort = null;
                    }
                }
            }
            else
            {
                var peer = target == "signalr" ? "Notify.Bench.SignalRPeer" : "Notify.Bench.FloorPeer";
                var dll = Path.Combine(root, "bench", "peers", peer, "bin", configuration, "net10.0", peer + ".dll");
                var environment = new Dictionary<string, string>(serverEnvironment) { ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{serverPort}" };
                if (target == "floor-upgrade")
                {
                    environment["FLOOR_UPGRADE"] = "connection";
                }
                server = Start("dotnet", Path.GetDirectoryName(dll)!, environment, dll);
                processes.Add(server);
                await WaitAliveAsync(serverPort);
            }

            await Task.Delay(3000);
            var baseline = Rss(server.Id);
            result.Notes.Add($"server RSS before connections {baseline / 1024.0:F1} MiB");

            // Idle connections.
            var selfDll = typeof(Orchestrator).Assembly.Location;
            for (var from = 0; from < connections; from += PerWorker)
            {
                var count = Math.Min(PerWorker, connections - from);
                var process = Start("dotnet", AppContext.BaseDirectory, [], selfDll, "worker", "--kind", target, "--port", $"{serverPort}", "--from", $"{from}", "--count", $"{count}", "--key", SigningKey);
                processes.Add(process);
                workers.Add(new Worker(process, from, count));
            }
            var openWatch = Stopwatch.StartNew();
            var opened = await AllAsync(workers, "open");
            var ok = opened.Sum(r => long.Parse(r[1], CultureInfo.InvariantCulture));
            var failed = opened.Sum(r => long.Parse(r[2], CultureInfo.InvariantCulture));
            result.Rows["connections opened (failed)"] = $"{ok:N0} ({failed:N0}) in {openWatch.Elapsed.TotalSeconds:F1} s";
            Console.WriteLine($"opened {ok} failed {failed}");

            // Hold them the same time on every server, through at least one heartbeat (Notify and the floor
            // every 10 s; SignalR pings every 15 s).
            await Task.Delay(TimeSpan.FromSeconds(plan.HoldSeconds));
            var beats = await AllAsync(workers, "hb");
            var withBeat = beats.Sum(r => long.Parse(r[1], CultureInfo.InvariantCulture));
            var stillOpen = beats.Sum(r => long.Parse(r[3], CultureInfo.InvariantCulture));
            var rss = Rss(server.Id);
            result.Rows["idle: connections still open after hold / got a heartbeat"] = $"{stillOpen:N0} / {withBeat:N0}";
            result.Rows[$"idle: server RSS at {connections:N0} connections"] = $"{rss / 1024.0:F1} MiB";
            result.RssPerConnection = ok == 0 ? 0 : (rss - baseline) / (double)ok;
            result.Rows["idle: RSS growth per connection"] = ok == 0 ? "—" : $"{result.RssPerConnection:F1} KiB";
            if (idleOnly)
            {
                return result;
            }

            // Down to the fan-out population.
            var keepEach = SplitEvenly(fanout, workers);
            await Task.WhenAll(workers.Select((w, i) => w.AskAsync($"keep {keepEach[i]}")));
            await Task.Delay(2000);
            // The users whose connections stay open (each load process keeps its first clients).
            var users = workers.SelectMany((w, i) => Enumerable.Range(w.From, keepEach[i])).ToArray();
            var population = users.Length;

            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = new Uri($"http://127.0.0.1:{serverPort}") };
            // Notify.Realtime takes a broadcast from Redis (where the Api publishes it); the peers from an HTTP POST.
            Func<long, Task> broadcast = target.StartsWith("notify", StringComparison.Ordinal)
                ? ts => redis!.GetSubscriber().PublishAsync(RedisChannel.Literal(new RedisChannels().For(BusTopic.Broadcast)),
                    Encoding.UTF8.GetBytes($"{{\"type\":\"message\",\"data\":{{\"channel\":\"broadcast\",\"id\":\"0-0\",\"payload\":{{\"bench_t\":{ts}}},\"created_at\":\"{DateTimeOffset.UtcNow:O}\"}}}}"))
                : async ts => (await http.PostAsync("/broadcast", new StringContent($"{{\"bench_t\":{ts}}}"))).EnsureSuccessStatusCode();

            // Fan-out latency: one broadcast at a time, 10 of them.
            await AllAsync(workers, "reset");
            for (var i = 0; i < 10; i++)
            {
                await broadcast(Stopwatch.GetTimestamp());
                await WaitCountAsync(workers, (long)population * (i + 1), TimeSpan.FromSeconds(30), messages: true);
            }
            var latencies = await LatenciesAsync(workers, work.FullName);
            result.Rows[$"fan-out to {population:N0}, one broadcast at a time: p50 / p99 / max"] = Percentiles(latencies);

            // Fan-out throughput: the broadcasts from concurrent senders, timed from the first send to the last delivery.
            // An optional unmeasured burst first, so the runtime's tiered JIT has compiled the burst's code before it is timed.
            if (plan.WarmupBroadcasts > 0)
            {
                await AllAsync(workers, "reset");
                await BurstAsync(broadcast, plan.WarmupBroadcasts, plan.Senders);
                await WaitCountAsync(workers, (long)population * plan.WarmupBroadcasts, TimeSpan.FromSeconds(120), messages: true);
                await Task.Delay(1000);
            }
            await AllAsync(workers, "reset");
            var file = $"{named}-round{probes.Round}";
            var perf = probes.PerfDirectory is { } perfDirectory ? ServerProbe.StartPerf(server.Id, Path.Combine(perfDirectory, file + ".perf.data")) : null;
            var counters = probes.CountersDirectory is { } countersDirectory ? ServerProbe.StartCounters(server.Id, Path.Combine(countersDirectory, file + ".counters.csv")) : null;
            if (perf is not null || counters is not null)
            {
                // Let the recorders attach before the burst starts.
                await Task.Delay(2000);
            }
            // Counting only (no samples): attached within a moment, so it covers little more than the burst.
            var perfStat = probes.CountersDirectory is { } statDirectory ? ServerProbe.StartPerfStat(server.Id, Path.Combine(statDirectory, file + ".perf-stat.csv")) : null;
            if (perfStat is not null)
            {
                await Task.Delay(300);
            }
            result.ThreadsBefore = ServerProbe.Threads(server.Id);
            var serverProbe = ServerProbe.Start([server.Id]);
            var clientProbe = ServerProbe.Start(workers.Select(w => w.Process.Id));
            var gcBefore = await GcAsync(http);
            var serverCpu = CpuSeconds([server]);
            var clientCpu = CpuSeconds(workers.Select(w => w.Process));
            var burst = Stopwatch.StartNew();
            await BurstAsync(broadcast, plan.Broadcasts, plan.Senders);
            var expected = (long)population * plan.Broadcasts;
            var delivered = await WaitCountAsync(workers, expected, TimeSpan.FromSeconds(120), messages: true);
            var burstTime = burst.Elapsed;
            result.ServerCpu = CpuSeconds([server]) - serverCpu;
            result.ClientCpu = CpuSeconds(workers.Select(w => w.Process)) - clientCpu;
            result.BurstSeconds = burstTime.TotalSeconds;
            result.ServerWait = serverProbe.Read().RunQueueWait;
            result.ClientWait = clientProbe.Read().RunQueueWait;
            result.ThreadsAfter = ServerProbe.Threads(server.Id);
            result.Gc = await GcAsync(http) is { } gcAfter && gcBefore is not null
                ? $"{gcAfter[0] - gcBefore[0]:F0} / {gcAfter[1] - gcBefore[1]:F0} / {gcAfter[2] - gcBefore[2]:F0}, {gcAfter[3] - gcBefore[3]:F0} ms"
                : "—";
            await ServerProbe.StopAsync(perfStat);
            await ServerProbe.StopAsync(perf);
            await ServerProbe.StopAsync(counters);
            latencies = await LatenciesAsync(workers, work.FullName);
            result.DeliveriesPerSecond = delivered / burstTime.TotalSeconds;
            result.DeliveriesPerCpuSecond = result.ServerCpu > 0 ? delivered / result.ServerCpu : 0;
            result.Rows[$"fan-out throughput: {plan.Broadcasts} broadcasts × {population:N0}"] = $"{result.DeliveriesPerSecond:N0} deliveries/s ({delivered:N0} of {expected:N0} in {burstTime.TotalSeconds:F2} s)";
            result.Rows["fan-out throughput: latency p50 / p99 / max"] = Percentiles(latencies);
            result.Rows["fan-out throughput: CPU seconds server / load clients"] = $"{result.ServerCpu:F1} / {result.ClientCpu:F1}";
            if (!plan.Full || target.StartsWith("floor", StringComparison.Ordinal))
            {
                await AllAsync(workers, "exit");
                return result;
            }

            // Personal notifications at steady rates.
            var store = database is null ? null : new SqliteNotificationStore(database);
            var bus = redis is null ? null : new RedisMessageBus(redis, new RedisChannels(), new StaticOptions<ChannelOptions>(new ChannelOptions()), TimeProvider.System);
            var ids = new NotificationIds(TimeProvider.System);
            using var api = apiPort is null ? null : new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 128 }) { BaseAddress = new Uri($"http://127.0.0.1:{apiPort}") };
            api?.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
            result.Notes.Add(target.StartsWith("notify", StringComparison.Ordinal)
                ? api is null ? "personal: created in the store and published on Redis in the load process (the Api's steps, without its HTTP hop)" : "personal: REST POST /api/notifications on a real Api → store → Redis → WebSocket"
                : "personal: POST /notify/{user} → Clients.User(user) (no store)");
            var held = 0;
            foreach (var rate in rates)
            {
                await AllAsync(workers, "reset");
                var (sent, errors, elapsed) = await SendPersonalAsync(rate, seconds, users, target, http, api, store, bus, ids);
                var got = await WaitCountAsync(workers, sent, TimeSpan.FromSeconds(15), messages: false);
                latencies = await LatenciesAsync(workers, work.FullName);
                var achieved = sent / elapsed.TotalSeconds;
                var ok2 = errors == 0 && got == sent && achieved >= rate * 0.95;
                if (ok2)
                {
                    held = rate;
                }
                result.Rows[$"personal {rate:N0}/s for {seconds} s: p50 / p99 / max"] = $"{Percentiles(latencies)}; sent {achieved:N0}/s, received {got:N0}/{sent:N0}, errors {errors}";
                Console.WriteLine($"rate {rate}: {result.Rows[$"personal {rate:N0}/s for {seconds} s: p50 / p99 / max"]}");
            }
            result.Rows["personal: highest rate held without loss or error"] = held == 0 ? "none of the rates" : $"{held:N0}/s";

            // Every client first sees one notification, so each has a last id to resume from.
            await AllAsync(workers, "reset");
            await SendPersonalAsync(rate: 5_000, seconds: 0, users, target, http, api, store, bus, ids, oncePerUser: true);
            await WaitCountAsync(workers, population, TimeSpan.FromSeconds(30), messages: false);

            // Reconnect storm: everyone drops, one notification each is created meanwhile, everyone reconnects with last_id.
            await AllAsync(workers, "drop");
            await Task.Delay(1000);
            var (stormSent, stormErrors, _) = await SendPersonalAsync(rate: 5_000, seconds: 0, users, target, http, api, store, bus, ids, oncePerUser: true);
            var stormTimeout = target.StartsWith("notify", StringComparison.Ordinal) ? 60 : 10;
            var storm = await AllAsync(workers, $"reconnect 1 {stormTimeout}");
            var reconnected = storm.Sum(r => long.Parse(r[1], CultureInfo.InvariantCulture));
            var reconnectMs = storm.Max(r => long.Parse(r[3], CultureInfo.InvariantCulture));
            var caughtUpMs = storm.Max(r => long.Parse(r[4], CultureInfo.InvariantCulture));
            var caughtUp = storm.Sum(r => long.Parse(r[5], CultureInfo.InvariantCulture));
            var duplicates = storm.Sum(r => long.Parse(r[6], CultureInfo.InvariantCulture));
            result.Rows[$"reconnect storm: {population:N0} reconnect at once"] = $"{reconnected:N0} back in {reconnectMs / 1000.0:F1} s";
            result.Rows["reconnect storm: missed notification delivered (lost, duplicates)"] = caughtUp == population
                ? $"all {caughtUp:N0} caught up in {caughtUpMs / 1000.0:F1} s (0 lost, {duplicates} duplicates)"
                : $"{caughtUp:N0} caught up; {population - caughtUp:N0} lost after {stormTimeout} s ({duplicates} duplicates; {stormErrors} send errors of {stormSent})";

            await AllAsync(workers, "exit");
        }
        finally
        {
            foreach (var process in processes)
            {
                try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            }
            redis?.Dispose();
            database?.Dispose();
            try { work.Delete(recursive: true); } catch (IOException) { }
        }
        return result;
    }

    /// <summary>The peers' GC so far (gen0, gen1, gen2 collections, total pause ms); null for a server without <c>/gc</c>.</summary>
    private static async Task<double[]?> GcAsync(HttpClient http)
    {
        using var response = await http.GetAsync("/gc");
        return response.IsSuccessStatusCode
            ? (await response.Content.ReadAsStringAsync()).Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()
            : null;
    }

    /// <summary>Sends <paramref name="count"/> broadcasts from <paramref name="senders"/> concurrent senders.</summary>
    private static Task BurstAsync(Func<long, Task> broadcast, int count, int senders)
    {
        var left = count;
        return Task.WhenAll(Enumerable.Range(0, senders).Select(async _ =>
        {
            while (Interlocked.Decrement(ref left) >= 0)
            {
                await broadcast(Stopwatch.GetTimestamp());
            }
        }));
    }

    private static async Task<(long Sent, long Errors, TimeSpan Elapsed)> SendPersonalAsync(
        int rate, int seconds, int[] users, string target, HttpClient http, HttpClient? api,
        SqliteNotificationStore? store, RedisMessageBus? bus, NotificationIds ids, bool oncePerUser = false)
    {
        var total = oncePerUser ? users.Length : rate * seconds;
        long sent = 0, errors = 0, next = -1;
        var watch = Stopwatch.StartNew();
        var senders = Enumerable.Range(0, 16).Select(async _ =>
        {
            while (true)
            {
                var i = Interlocked.Increment(ref next);
                if (i >= total)
                {
                    return;
                }
                // Paced: item i is due at i / rate seconds.
                var due = TimeSpan.FromSeconds(i / (double)rate);
                var wait = due - watch.Elapsed;
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait);
                }
                var user = "u" + users[oncePerUser ? (int)i : Random.Shared.Next(users.Length)].ToString(CultureInfo.InvariantCulture);
                var ts = Stopwatch.GetTimestamp();
                try
                {
                    if (target == "signalr")
                    {
                        using var response = await http.PostAsync($"/notify/{user}", new StringContent($"{{\"bench_t\":{ts},\"personal\":true}}"));
                        response.EnsureSuccessStatusCode();
                    }
                    else if (api is not null)
                    {
                        using var content = new StringContent($"{{\"user_id\":\"{user}\",\"type\":\"bench\",\"title\":\"bench\",\"content\":\"x\",\"metadata\":{{\"bench_t\":{ts}}}}}", Encoding.UTF8, "application/json");
                        using var response = await api.PostAsync("/api/notifications", content);
                        response.EnsureSuccessStatusCode();
                    }
                    else
                    {
                        var notification = new Notification
                        {
                            Id = ids.Next(), UserId = user, Type = "bench", Title = "bench", Content = "x",
                            CreatedAt = DateTimeOffset.UtcNow, Metadata = JsonDocument.Parse($"{{\"bench_t\":{ts}}}").RootElement,
                        };
                        var stored = (await store!.CreateAsync(notification, null, CancellationToken.None)).Notification;
                        await bus!.PublishAsync(BusTopic.User(user), Frames.Serialize("notification", stored), CancellationToken.None);
                        // As the Api's outbox does (one write per create here): an Api sharing the store must not publish it again.
                        await store.MarkPublishedAsync([new NotificationKey(user, stored.Id)], CancellationToken.None);
                    }
                    Interlocked.Increment(ref sent);
                }
                catch (Exception ex) when (ex is HttpRequestException or RedisException or Microsoft.Data.Sqlite.SqliteException or TaskCanceledException)
                {
                    Interlocked.Increment(ref errors);
                }
            }
        }).ToArray();
        await Task.WhenAll(senders);
        return (sent, errors, watch.Elapsed);
    }

    private static async Task<long> WaitCountAsync(List<Worker> workers, long expected, TimeSpan timeout, bool messages)
    {
        var watch = Stopwatch.StartNew();
        long total = 0;
        while (watch.Elapsed < timeout)
        {
            var counts = await AllAsync(workers, "count");
            total = counts.Sum(r => long.Parse(r[messages ? 1 : 2], CultureInfo.InvariantCulture));
            if (total >= expected)
            {
                return total;
            }
            await Task.Delay(50);
        }
        return total;
    }

    private static async Task<long[]> LatenciesAsync(List<Worker> workers, string dir)
    {
        var files = workers.Select((_, i) => Path.Combine(dir, $"lat-{i}.txt")).ToArray();
        await Task.WhenAll(workers.Select((w, i) => w.AskAsync($"lat {files[i]}")));
        var all = new List<long>();
        foreach (var file in files)
        {
            all.AddRange((await File.ReadAllLinesAsync(file)).Where(l => l.Length > 0).Select(l => long.Parse(l, CultureInfo.InvariantCulture)));
        }
        all.Sort();
        return [.. all];
    }

    private static string Percentiles(long[] sorted)
    {
        if (sorted.Length == 0)
        {
            return "no samples";
        }
        string Ms(double q) => (sorted[Math.Min(sorted.Length - 1, (int)(q * sorted.Length))] / 1000.0).ToString("F1", CultureInfo.InvariantCulture);
        return $"{Ms(0.50)} / {Ms(0.99)} / {(sorted[^1] / 1000.0).ToString("F1", CultureInfo.InvariantCulture)} ms";
    }

    private static int[] SplitEvenly(int total, List<Worker> workers)
    {
        var shares = new int[workers.Count];
        var left = Math.Min(total, workers.Sum(w => w.Count));
        while (left > 0)
        {
            var open = Enumerable.Range(0, workers.Count).Where(i => shares[i] < workers[i].Count).ToArray();
            var each = Math.Max(1, left / open.Length);
            foreach (var i in open)
            {
                var add = Math.Min(Math.Min(each, workers[i].Count - shares[i]), left);
                shares[i] += add;
                left -= add;
            }
        }
        return shares;
    }

    private static async Task<string[][]> AllAsync(List<Worker> workers, string command) =>
        await Task.WhenAll(workers.Select(w => w.AskAsync(command)));

    private static long Rss(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
            }
        }
        return 0;
    }

    private static async Task WaitAliveAsync(int port)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(60))
        {
            try
            {
                using var response = await http.GetAsync($"http://127.0.0.1:{port}/alive");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"port {port} never became alive");
    }

    private static Process Start(string file, string workingDirectory, Dictionary<string, string> environment, params string[] arguments)
    {
        var psi = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            psi.ArgumentList.Add(argument);
        }
        foreach (var (key, value) in environment)
        {
            psi.Environment[key] = value;
        }
        var process = Process.Start(psi)!;
        if (file != "dotnet" || !arguments.Contains("worker"))
        {
            process.OutputDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
        }
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line)
            {
                Console.Error.WriteLine($"[{process.Id}] {line}");
            }
        };
        process.BeginErrorReadLine();
        return process;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Notify.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("Notify.sln not found");
    }

    private static int Int(string[] args, string name, int fallback) => Text(args, name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    private static string? Text(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private sealed class Worker(Process process, int from, int count)
    {
        private readonly SemaphoreSlim _gate = new(1, 1);

        public Process Process => process;

        public int From => from;

        public int Count => count;

        public async Task<string[]> AskAsync(string command)
        {
            await _gate.WaitAsync();
            try
            {
                await process.StandardInput.WriteLineAsync(command);
                await process.StandardInput.FlushAsync();
                while (true)
                {
                    var line = await process.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException($"worker {process.Id} exited");
                    if (line.StartsWith('@'))
                    {
                        return line[1..].Split(' ');
                    }
                }
            }
            finally
            {
                _gate.Release();
            }
        }
    }

    private sealed record TargetResult(string Name)
    {
        public Dictionary<string, string> Rows { get; } = [];
        public List<string> Notes { get; } = [];
        public double RssPerConnection { get; set; }
        public double DeliveriesPerSecond { get; set; }
        public double DeliveriesPerCpuSecond { get; set; }
        public double ServerCpu { get; set; }
        public double ClientCpu { get; set; }
        public string Load { get; set; } = "";
        public int Round { get; set; }
        public double BurstSeconds { get; set; }
        public double ServerWait { get; set; }
        public double ClientWait { get; set; }
        public int ThreadsBefore { get; set; }
        public int ThreadsAfter { get; set; }
        public string Gc { get; set; } = "—";
    }

    /// <summary>
    /// Optional recorders of each broadcast burst (a perf profile and the runtime's counters of the server, one
    /// file per round), and the Notify.Realtime build the "notify-baseline" target runs.
    /// </summary>
    private sealed record Probes(string? PerfDirectory, string? CountersDirectory, string? BaselineDll)
    {
        public int Round { get; init; }

        /// <summary>Extra environment variables of every server under test (<c>--server-env</c>).</summary>
        public Dictionary<string, string> Environment { get; init; } = [];
    }

    /// <summary>What each run does: idle hold, broadcasts and their senders, and whether the personal and reconnect scenarios run too.</summary>
    private sealed record Plan(int HoldSeconds, int Broadcasts, int Senders, bool Full, int WarmupBroadcasts);

    private sealed class StaticOptions<T>(T value) : IOptionsMonitor<T>
    {
        public T CurrentValue => value;
        public T Get(string? name) => value;
        public IDisposable? OnChange(Action<T, string?> listener) => null;
    }
}
