// Create throughput and latency of the real Api over HTTP: each create is stored in SQLite and then
// published on Redis. Starts its own redis-server and Notify.Api (from the build output), runs a
// closed loop at 1, 8 and 64 concurrent callers for a fixed time each, and writes a Markdown table.
//
//   dotnet run -c Release --project bench/Notify.Bench.Api -- [--seconds 10] [--warmup 2] [--out bench/results/api.md]
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

var seconds = Arg("--seconds", 10);
var warmup = Arg("--warmup", 2);
var levels = (ArgText("--concurrency") ?? "1,8,64").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
var root = FindRoot();
var output = Path.GetFullPath(ArgText("--out") ?? Path.Combine(root, "bench", "results", "api.md"));
var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
var apiDll = Path.Combine(root, "Notify.Api", "bin", configuration, "net10.0", "Notify.Api.dll");
const string apiKey = "bench-api-key-0123456789abcdef0123456789";
const string signingKey = "bench-signing-key-0123456789abcdef0123456789";

var work = Directory.CreateTempSubdirectory("notify-bench-api-");
var redisPort = FreePort();
var apiPort = FreePort();
using var redis = Start("redis-server", work.FullName, new Dictionary<string, string>(), "--port", $"{redisPort}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", work.FullName);
using var api = Start("dotnet", Path.GetDirectoryName(apiDll)!, new Dictionary<string, string>
{
    ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{apiPort}",
    ["ASPNETCORE_ENVIRONMENT"] = "Production",
    ["ConnectionStrings__redis"] = $"127.0.0.1:{redisPort},abortConnect=false",
    ["Store__SqlitePath"] = Path.Combine(work.FullName, "notify.db"),
    ["Auth__SigningKey"] = signingKey,
    ["Auth__ApiKeys__bench"] = apiKey,
    ["Api__ApiKeyCreatesPerWindow"] = "10000000",
    ["Logging__LogLevel__Default"] = "Warning",
}, apiDll);

try
{
    using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
    {
        BaseAddress = new Uri($"http://127.0.0.1:{apiPort}"),
        Timeout = TimeSpan.FromSeconds(30),
    };
    http.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
    await WaitAliveAsync(http);

    var rows = new List<string>();
    foreach (var concurrency in levels)
    {
        await RunAsync(http, concurrency, TimeSpan.FromSeconds(warmup)); // warm-up, discarded
        var r = await RunAsync(http, concurrency, TimeSpan.FromSeconds(seconds));
        var line = string.Create(CultureInfo.InvariantCulture,
            $"| {concurrency} | {r.Count:N0} | {r.Errors} | {r.Count / r.Elapsed.TotalSeconds:N0} | {r.P(0.50):N2} | {r.P(0.99):N2} | {r.P(1.0):N2} |");
        Console.WriteLine(line);
        rows.Add(line);
    }

    // Reads over HTTP on what the create phase stored (its rows spread over 1,000 users), with user tokens.
    // Signed here with the Api's key: a Production Api has no dev tokens.
    var issuer = new Notify.Core.Auth.NotifyTokens(
        Microsoft.Extensions.Options.Options.Create(new Notify.Core.Auth.AuthOptions { SigningKey = signingKey }), TimeProvider.System);
    var tokens = Enumerable.Range(0, 200).Select(u => issuer.Issue($"bench-{u}", [], TimeSpan.FromHours(1)).Token).ToList();
    var readRows = new List<string>();
    foreach (var (name, path) in new[] { ("list first page (limit 20)", "/api/notifications?limit=20"), ("unread_count", "/api/notifications/unread_count") })
    {
        foreach (var concurrency in new[] { 1, 8 })
        {
            await ReadAsync(http, tokens, path, concurrency, TimeSpan.FromSeconds(warmup));
            var r = await ReadAsync(http, tokens, path, concurrency, TimeSpan.FromSeconds(Math.Max(1, seconds / 2)));
            var line = string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {concurrency} | {r.Count:N0} | {r.Errors} | {r.Count / r.Elapsed.TotalSeconds:N0} | {r.P(0.50):N2} | {r.P(0.99):N2} | {r.P(1.0):N2} |");
            Console.WriteLine(line);
            readRows.Add(line);
        }
    }

    var md = new StringBuilder();
    md.AppendLine("# Api benchmark");
    md.AppendLine();
    md.AppendLine(CultureInfo.InvariantCulture, $"`POST /api/notifications` over HTTP/1.1 (keep-alive, `X-Api-Key`) to a real Notify.Api process ({configuration} build), ");
    md.AppendLine("which validates, stores the notification in SQLite (WAL, file on local disk) and then publishes the `notification` frame on Redis pub/sub.");
    md.AppendLine(CultureInfo.InvariantCulture, $"Closed loop: each caller sends its next create when the previous answer arrives; {warmup} s warm-up, then {seconds} s measured per level; 1,000 distinct users.");
    md.AppendLine(CultureInfo.InvariantCulture, $"Machine: {Environment.ProcessorCount} cores (client, Api and redis-server share them), {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}. Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.");
    if (File.Exists("/proc/loadavg"))
    {
        md.AppendLine(CultureInfo.InvariantCulture, $"Load average when finished (1/5/15 min): {string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3))}; other processes on the machine compete for the same cores.");
    }
    md.AppendLine();
    md.AppendLine("Command: `dotnet run -c Release --project bench/Notify.Bench.Api -- --seconds " + seconds.ToString(CultureInfo.InvariantCulture) + "`");
    md.AppendLine();
    md.AppendLine("| callers | creates | errors | creates/s | p50 ms | p99 ms | max ms |");
    md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|");
    foreach (var row in rows)
    {
        md.AppendLine(row);
    }
    md.AppendLine();
    md.AppendLine(CultureInfo.InvariantCulture, $"Reads over HTTP with user tokens (200 of the 1,000 users, chosen at random per request), on the {Totals.Created:N0} rows the create phase stored (≈ {Totals.Created / 1000:N0} per user):");
    md.AppendLine();
    md.AppendLine("| request | callers | requests | errors | requests/s | p50 ms | p99 ms | max ms |");
    md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
    foreach (var row in readRows)
    {
        md.AppendLine(row);
    }
    md.AppendLine();
    md.AppendLine("Store-only figures (no HTTP, 1,000,000 rows over 10,000 users) are in `store.md`.");
    Directory.CreateDirectory(Path.GetDirectoryName(output)!);
    await File.WriteAllTextAsync(output, md.ToString());
    Console.WriteLine($"written {output}");
}
finally
{
    Stop(api);
    Stop(redis);
    try { work.Delete(recursive: true); } catch (IOException) { }
}

static async Task<Result> RunAsync(HttpClient http, int concurrency, TimeSpan duration)
{
    var latencies = new List<double>[concurrency];
    var errors = 0;
    var clock = Stopwatch.StartNew();
    var deadline = clock.Elapsed + duration;
    var workers = Enumerable.Range(0, concurrency).Select(worker => Task.Run(async () =>
    {
        var mine = latencies[worker] = new List<double>(100_000);
        var random = new Random(worker);
        var n = 0;
        while (clock.Elapsed < deadline)
        {
            var body = $$"""{"user_id":"bench-{{random.Next(1000)}}","type":"bench","title":"Benchmark {{worker}}-{{n++}}","content":"A notification created by the benchmark.","severity":"info"}""";
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            var start = Stopwatch.GetTimestamp();
            using var response = await http.PostAsync("/api/notifications", content);
            await response.Content.LoadIntoBufferAsync();
            var ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (response.StatusCode == HttpStatusCode.Created)
            {
                mine.Add(ms);
                Interlocked.Increment(ref Totals.Created);
            }
            else
            {
                Interlocked.Increment(ref errors);
            }
        }
    })).ToArray();
    await Task.WhenAll(workers);
    var all = latencies.SelectMany(l => l).Order().ToArray();
    return new Result(all, errors, clock.Elapsed);
}

static async Task<Result> ReadAsync(HttpClient http, List<string> tokens, string path, int concurrency, TimeSpan duration)
{
    var latencies = new List<double>[concurrency];
    var errors = 0;
    var clock = Stopwatch.StartNew();
    var deadline = clock.Elapsed + duration;
    var workers = Enumerable.Range(0, concurrency).Select(worker => Task.Run(async () =>
    {
        var mine = latencies[worker] = new List<double>(100_000);
        var random = new Random(1_000 + worker);
        while (clock.Elapsed < deadline)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", tokens[random.Next(tokens.Count)]);
            var start = Stopwatch.GetTimestamp();
            using var response = await http.SendAsync(request);
            await response.Content.LoadIntoBufferAsync();
            var ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (response.StatusCode == HttpStatusCode.OK)
            {
                mine.Add(ms);
            }
            else
            {
                Interlocked.Increment(ref errors);
            }
        }
    })).ToArray();
    await Task.WhenAll(workers);
    return new Result(latencies.SelectMany(l => l).Order().ToArray(), errors, clock.Elapsed);
}

static async Task WaitAliveAsync(HttpClient http)
{
    var deadline = Stopwatch.StartNew();
    while (true)
    {
        try
        {
            using var r = await http.GetAsync("/health");
            if (r.IsSuccessStatusCode)
            {
                return;
            }
        }
        catch (HttpRequestException)
        {
        }
        if (deadline.Elapsed > TimeSpan.FromSeconds(60))
        {
            throw new TimeoutException("Notify.Api did not become healthy within 60 s");
        }
        await Task.Delay(100);
    }
}

static Process Start(string file, string workingDirectory, IReadOnlyDictionary<string, string> env, params string[] args)
{
    var psi = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
    foreach (var a in args)
    {
        psi.ArgumentList.Add(a);
    }
    foreach (var (k, v) in env)
    {
        psi.Environment[k] = v;
    }
    var p = Process.Start(psi) ?? throw new InvalidOperationException($"{file} did not start");
    p.OutputDataReceived += (_, _) => { };
    p.ErrorDataReceived += (_, e) => { if (e.Data is { } line) { Console.Error.WriteLine(line); } };
    p.BeginOutputReadLine();
    p.BeginErrorReadLine();
    return p;
}

static void Stop(Process p)
{
    if (!p.HasExited)
    {
        p.Kill(entireProcessTree: true);
        p.WaitForExit(10_000);
    }
}

static int FreePort()
{
    using var l = new TcpListener(IPAddress.Loopback, 0);
    l.Start();
    return ((IPEndPoint)l.LocalEndpoint).Port;
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

int Arg(string name, int fallback) => ArgText(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

string? ArgText(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

internal static class Totals
{
    public static long Created;
}

internal sealed record Result(double[] Sorted, int Errors, TimeSpan Elapsed)
{
    public int Count => Sorted.Length;

    public double P(double q) => Sorted.Length == 0 ? double.NaN : Sorted[Math.Min(Sorted.Length - 1, (int)Math.Ceiling(q * Sorted.Length) - 1)];
}
