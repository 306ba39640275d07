// A soak at a steady load with faults: connected WebSocket users, a steady stream of creates through the Api, a
// steady stream of tasks through the Worker, Redis killed twice (kill -9, restarted on the same port and
// append-only file) and a Realtime replica killed once. Counts what the Api acknowledged (201) against what
// reached the clients, duplicates and order, and samples each service's RSS; writes a Markdown report.
//
//   dotnet run -c Release --project bench/Notify.Bench.Soak -- [--minutes 30] [--users 100] [--rate 20] [--task-rate 1] [--out bench/results/soak.md]
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

var minutes = Arg("--minutes", 30.0);
var users = (int)Arg("--users", 100.0);
var rate = Arg("--rate", 20.0);
var taskRate = Arg("--task-rate", 1.0);
var root = FindRoot();
var output = Path.GetFullPath(ArgText("--out") ?? Path.Combine(root, "bench", "results", "soak.md"));
var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
const string apiKey = "soak-api-key-0123456789abcdef0123456789";
const string signingKey = "soak-signing-key-0123456789abcdef0123456789";
var duration = TimeSpan.FromMinutes(minutes);

var work = Directory.CreateTempSubdirectory("notify-soak-");
var redisPort = FreePort();
var ports = new Dictionary<string, int> { ["realtime-0"] = FreePort(), ["realtime-1"] = FreePort(), ["api"] = FreePort(), ["worker"] = FreePort() };
var services = new ConcurrentDictionary<string, Process>();
var events = new ConcurrentQueue<string>();
var clock = Stopwatch.StartNew();
void Log(string text)
{
    var line = string.Create(CultureInfo.InvariantCulture, $"{clock.Elapsed:hh\\:mm\\:ss} {text}");
    events.Enqueue(line);
    Console.WriteLine(line);
}

Process StartRedis() => Start("redis-server", work.FullName, [], "--port", $"{redisPort}", "--bind", "127.0.0.1",
    "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--dir", work.FullName);
Process StartService(string name)
{
    var project = name.StartsWith("realtime", StringComparison.Ordinal) ? "Notify.Realtime" : name == "api" ? "Notify.Api" : "Notify.Worker";
    var dll = Path.Combine(root, project, "bin", configuration, "net10.0", project + ".dll");
    return Start("dotnet", Path.GetDirectoryName(dll)!, new Dictionary<string, string>
    {
        ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{ports[name]}",
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
        ["ConnectionStrings__redis"] = $"127.0.0.1:{redisPort},abortConnect=false",
        ["Store__SqlitePath"] = Path.Combine(work.FullName, "notify.db"),
        ["Auth__SigningKey"] = signingKey,
        ["Auth__ApiKeys__soak"] = apiKey,
        ["Api__ApiKeyCreatesPerWindow"] = "10000000",
        ["Api__UserTaskCreatesPerWindow"] = "10000000",
        ["Queue__EnableDemoKinds"] = "true",
        ["Logging__LogLevel__Default"] = "Warning",
    }, dll);
}

var redis = StartRedis();
// Stopped with SIGTERM or Ctrl+C, the soak takes what it started with it.
AppDomain.CurrentDomain.ProcessExit += (_, _) =>
{
    foreach (var p in services.Values.Append(redis))
    {
        try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
    }
};
foreach (var name in ports.Keys)
{
    services[name] = StartService(name);
}
var tokens = new Notify.Core.Auth.NotifyTokens(Microsoft.Extensions.Options.Options.Create(new Notify.Core.Auth.AuthOptions { SigningKey = signingKey }), TimeProvider.System);
string Token(string user) => tokens.Issue(user, [], TimeSpan.FromHours(4)).Token;
using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { Timeout = TimeSpan.FromSeconds(30) };
http.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
using var stop = new CancellationTokenSource();

var acknowledged = new ConcurrentDictionary<string, ConcurrentDictionary<string, byte>>();
var delivered = new ConcurrentDictionary<string, ConcurrentDictionary<string, int>>();
long duplicates = 0, orderViolations = 0, reconnects = 0, createErrors = 0, tasksCreated = 0, taskErrors = 0;
var rss = new List<(TimeSpan At, Dictionary<string, long> Kib)>();

try
{
    foreach (var name in ports.Keys)
    {
        await WaitAliveAsync(ports[name]);
    }
    Log($"started: redis :{redisPort}, {string.Join(", ", ports.Select(p => $"{p.Key} :{p.Value}"))}; {users} users, {rate}/s creates, {taskRate}/s tasks, {minutes} min");

    var clients = Enumerable.Range(0, users).Select(u => Task.Run(() => ClientAsync($"soak-{u}", u % 2, stop.Token))).ToList();
    var creator = Task.Run(() => CreatorAsync(stop.Token));
    var tasker = Task.Run(() => TaskerAsync(stop.Token));
    var sampler = Task.Run(() => SamplerAsync(stop.Token));

    // The fault schedule, in fractions of the run.
    var faults = new (double At, string What)[] { (1.0 / 6, "redis"), (0.5, "realtime-0"), (5.0 / 6, "redis") };
    foreach (var (at, what) in faults)
    {
        var due = TimeSpan.FromTicks((long)(duration.Ticks * at));
        if (due > clock.Elapsed)
        {
            await Task.Delay(due - clock.Elapsed);
        }
        if (what == "redis")
        {
            Log("fault: redis-server killed (SIGKILL)");
            redis.Kill();
            await redis.WaitForExitAsync();
            await Task.Delay(TimeSpan.FromSeconds(5));
            redis = StartRedis();
            Log("redis-server started again on the same port and append-only file");
        }
        else
        {
            Log($"fault: {what} killed (SIGKILL)");
            services[what].Kill();
            await services[what].WaitForExitAsync();
            await Task.Delay(TimeSpan.FromSeconds(5));
            services[what] = StartService(what);
            await WaitAliveAsync(ports[what]);
            Log($"{what} started again");
        }
    }
    if (duration > clock.Elapsed)
    {
        await Task.Delay(duration - clock.Elapsed);
    }

    // Stop creating; give delivery up to a minute to catch up with everything acknowledged.
    Log("load stopped; waiting for deliveries");
    var creatorsStop = stop;
    await creatorsStop.CancelAsync();
    await Task.WhenAll(creator, tasker);
    var settle = Stopwatch.StartNew();
    while (Missing() > 0 && settle.Elapsed < TimeSpan.FromSeconds(60))
    {
        await Task.Delay(500);
    }
    Log($"settled after {settle.Elapsed.TotalSeconds:N1} s");
    await sampler.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default);
    await Task.WhenAll(clients).WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { }, TaskScheduler.Default);
    Report();
}
finally
{
    await stop.CancelAsync();
    foreach (var p in services.Values.Append(redis))
    {
        try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
    }
    try { work.Delete(recursive: true); } catch (IOException) { }
}

long Missing() => acknowledged.Sum(u => u.Value.Keys.Count(id => !(delivered.TryGetValue(u.Key, out var d) && d.ContainsKey(id))));

async Task ClientAsync(string user, int replica, CancellationToken ct)
{
    string? lastId = null;
    var seen = delivered.GetOrAdd(user, _ => new());
    var buffer = new byte[64 * 1024];
    while (!ct.IsCancellationRequested || Missing() > 0)
    {
        using var socket = new ClientWebSocket();
        try
        {
            var query = lastId is null ? "" : $"&last_id={Uri.EscapeDataString(lastId)}";
            await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{ports[$"realtime-{replica}"]}/api/ws/notifications?token={Token(user)}{query}"), CancellationToken.None);
            string? previous = null;
            while (socket.State == WebSocketState.Open)
            {
                using var message = new MemoryStream();
                WebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(90));
                    message.Write(buffer, 0, result.Count);
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
                using var frame = JsonDocument.Parse(message.ToArray());
                if (frame.RootElement.GetProperty("type").GetString() != "notification")
                {
                    continue;
                }
                var id = frame.RootElement.GetProperty("data").GetProperty("id").GetString()!;
                if (seen.AddOrUpdate(id, 1, (_, n) => n + 1) > 1)
                {
                    Interlocked.Increment(ref duplicates);
                }
                if (previous is not null && string.CompareOrdinal(id, previous) <= 0)
                {
                    Interlocked.Increment(ref orderViolations);
                }
                previous = id;
                if (lastId is null || string.CompareOrdinal(id, lastId) > 0)
                {
                    lastId = id;
                }
                if (ct.IsCancellationRequested && Missing() == 0)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or TimeoutException or IOException or HttpRequestException)
        {
        }
        Interlocked.Increment(ref reconnects);
        replica = 1 - replica; // move, as a client behind a load balancer would
        await Task.Delay(TimeSpan.FromMilliseconds(200 + Random.Shared.Next(300)), CancellationToken.None);
    }
}

async Task CreatorAsync(CancellationToken ct)
{
    var interval = TimeSpan.FromSeconds(1 / rate);
    var next = clock.Elapsed;
    var n = 0;
    while (!ct.IsCancellationRequested)
    {
        var user = $"soak-{n++ % users}";
        try
        {
            using var response = await http.PostAsJsonAsync(
                $"http://127.0.0.1:{ports["api"]}/api/notifications", new { user_id = user, type = "soak", title = $"soak {n}" }, CancellationToken.None);
            if (response.StatusCode == System.Net.HttpStatusCode.Created)
            {
                var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
                acknowledged.GetOrAdd(user, _ => new())[id] = 0;
            }
            else
            {
                Interlocked.Increment(ref createErrors);
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            Interlocked.Increment(ref createErrors);
        }
        next += interval;
        if (next > clock.Elapsed)
        {
            await Task.Delay(next - clock.Elapsed, CancellationToken.None);
        }
    }
}

async Task TaskerAsync(CancellationToken ct)
{
    var n = 0;
    while (!ct.IsCancellationRequested)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{ports["api"]}/api/tasks")
        {
            Content = JsonContent.Create(new { kind = "noop", @params = new { n } }),
        };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Token($"soak-task-{n++ % 10}"));
        try
        {
            using var response = await http.SendAsync(request, CancellationToken.None);
            if (response.IsSuccessStatusCode)
            {
                Interlocked.Increment(ref tasksCreated);
            }
            else
            {
                Interlocked.Increment(ref taskErrors);
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            Interlocked.Increment(ref taskErrors);
        }
        await Task.Delay(TimeSpan.FromSeconds(1 / taskRate), CancellationToken.None);
    }
}

async Task SamplerAsync(CancellationToken ct)
{
    while (!ct.IsCancellationRequested)
    {
        var sample = services.ToDictionary(s => s.Key, s => Rss(s.Value));
        sample["redis"] = Rss(redis);
        lock (rss)
        {
            rss.Add((clock.Elapsed, sample));
        }
        try { await Task.Delay(TimeSpan.FromSeconds(30), ct); } catch (OperationCanceledException) { }
    }
}

void Report()
{
    var acked = acknowledged.Sum(u => u.Value.Count);
    var got = delivered.Sum(u => u.Value.Count);
    var missing = Missing();
    var md = new StringBuilder();
    md.AppendLine("# Soak under faults");
    md.AppendLine();
    md.AppendLine(CultureInfo.InvariantCulture, $"Command: `dotnet run -c Release --project bench/Notify.Bench.Soak -- --minutes {minutes} --users {users} --rate {rate} --task-rate {taskRate}`");
    md.AppendLine(CultureInfo.InvariantCulture, $"Machine: {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd} UTC, load average at the end {File.ReadAllText("/proc/loadavg").Split(' ')[0]}.");
    md.AppendLine("Topology: redis-server (append-only file), two Realtime replicas, the Api, the Worker, one SQLite file; each user one WebSocket that reconnects to the other replica with `last_id` when its connection ends.");
    md.AppendLine();
    md.AppendLine("| measure | value |");
    md.AppendLine("|---|---|");
    md.AppendLine(CultureInfo.InvariantCulture, $"| notifications acknowledged (201) | {acked:N0} |");
    md.AppendLine(CultureInfo.InvariantCulture, $"| distinct notifications delivered | {got:N0} |");
    md.AppendLine(CultureInfo.InvariantCulture, $"| acknowledged but never delivered | {missing:N0} |");
    md.AppendLine(CultureInfo.InvariantCulture, $"| duplicate deliveries (same id twice to a user) | {duplicates:N0} |");
    md.AppendLine(CultureInfo.InvariantCulture, $"| out-of-order deliveries within a connection | {orderViolations:N0} |");
    md.AppendLine(CultureInfo.InvariantCulture, $"| creates not acknowledged (errors, timeouts) | {createErrors:N0} |");
    md.AppendLine(CultureInfo.InvariantCulture, $"| tasks accepted / refused | {tasksCreated:N0} / {taskErrors:N0} |");
    md.AppendLine(CultureInfo.InvariantCulture, $"| client reconnects | {reconnects:N0} |");
    md.AppendLine();
    md.AppendLine("## RSS of each process (KiB), every 30 s");
    md.AppendLine();
    var names = new[] { "redis", "realtime-0", "realtime-1", "api", "worker" };
    md.AppendLine("| t | " + string.Join(" | ", names) + " |");
    md.AppendLine("|---|" + string.Concat(names.Select(_ => "---|")));
    lock (rss)
    {
        foreach (var (at, kib) in rss)
        {
            md.Append(CultureInfo.InvariantCulture, $"| {at:hh\\:mm\\:ss} | ")
                .AppendLine(string.Join(" | ", names.Select(n => kib.TryGetValue(n, out var v) ? v.ToString("N0", CultureInfo.InvariantCulture) : "")) + " |");
        }
    }
    md.AppendLine();
    md.AppendLine("## Events");
    md.AppendLine();
    foreach (var line in events)
    {
        md.AppendLine(CultureInfo.InvariantCulture, $"- {line}");
    }
    File.WriteAllText(output, md.ToString());
    Console.WriteLine(md.ToString());
}

static long Rss(Process p)
{
    try
    {
        var line = File.ReadLines($"/proc/{p.Id}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }
    catch (Exception e) when (e is IOException or InvalidOperationException)
    {
        return 0;
    }
}

async Task WaitAliveAsync(int port)
{
    using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
    var deadline = Stopwatch.StartNew();
    while (deadline.Elapsed < TimeSpan.FromSeconds(120))
    {
        try
        {
            if ((await probe.GetAsync(new Uri($"http://127.0.0.1:{port}/alive"))).IsSuccessStatusCode)
            {
                return;
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
        }
        await Task.Delay(200);
    }
    throw new TimeoutException($"nothing answered on port {port}");
}

static Process Start(string program, string directory, Dictionary<string, string> environment, params string[] arguments)
{
    var info = new ProcessStartInfo(program) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
    foreach (var argument in arguments)
    {
        info.ArgumentList.Add(argument);
    }
    foreach (var (key, value) in environment)
    {
        info.Environment[key] = value;
    }
    var process = Process.Start(info)!;
    process.OutputDataReceived += (_, _) => { };
    process.ErrorDataReceived += (_, _) => { };
    process.BeginOutputReadLine();
    process.BeginErrorReadLine();
    return process;
}

static int FreePort()
{
    using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
    listener.Start();
    return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
}

static string FindRoot()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Notify.sln")))
    {
        dir = dir.Parent;
    }
    return dir?.FullName ?? throw new InvalidOperationException("Notify.sln not found above the build output.");
}

double Arg(string name, double fallback) =>
    ArgText(name) is { } text ? double.Parse(text, CultureInfo.InvariantCulture) : fallback;

string? ArgText(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
