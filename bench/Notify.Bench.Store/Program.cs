using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Notify.Core.Notifications;
using Notify.Core.Storage;
using Notify.Core.Storage.Sqlite;

// Store benchmark (SQLite adapter, in process, no HTTP):
//   1. create throughput and latency at 1, 8 and 64 concurrent callers (and 8 callers with idempotency keys);
//   2. list / unread-count latency with N notifications over U users, seeded in one transaction.
// Usage: dotnet run -c Release --project bench/Notify.Bench.Store -- [--seconds 5] [--rows 1000000] [--users 10000]
//        [--samples 5000] [--out bench/results] [--dir /tmp]
var seconds = IntArg("--seconds", 5);
var skipCreates = args.Contains("--reads-only");
var rows = IntArg("--rows", 1_000_000);
var users = IntArg("--users", 10_000);
var samples = IntArg("--samples", 5_000);
var outDir = StringArg("--out", Path.Combine("bench", "results"));
var workDir = StringArg("--dir", Path.GetTempPath());
var outName = StringArg("--name", "store");
var note = StringArg("--note", "");
var command = "dotnet run -c Release --project bench/Notify.Bench.Store -- " + string.Join(' ', args.Where((_, i) => args[i] != "--note" && (i == 0 || args[i - 1] != "--note")));

var results = new List<Result>();
var started = Stopwatch.StartNew();
var loadBefore = LoadAverage();

var createCases = new[]
{
    (1, false, SqliteSynchronousMode.Normal), (8, false, SqliteSynchronousMode.Normal), (64, false, SqliteSynchronousMode.Normal),
    (8, true, SqliteSynchronousMode.Normal), (1, false, SqliteSynchronousMode.Full), (64, false, SqliteSynchronousMode.Full),
};
foreach (var (callers, keyed, synchronous) in skipCreates ? [] : createCases)
{
    var path = Path.Combine(workDir, $"notify-bench-create-{Guid.NewGuid():N}.db");
    try
    {
        using var database = Open(path, synchronous);
        var store = new SqliteNotificationStore(database);
        await store.InitializeAsync(CancellationToken.None);
        var ids = new NotificationIds(TimeProvider.System);
        // Warm-up: JIT, pooled connections, prepared statements.
        await RunForAsync(callers, TimeSpan.FromSeconds(1), i => Create(store, ids, i, users, keyed));
        Result.Mark();
        var (count, elapsed, latencies) = await RunForAsync(callers, TimeSpan.FromSeconds(seconds), i => Create(store, ids, i, users, keyed));
        var name = $"create, {callers} caller{(callers == 1 ? "" : "s")}{(keyed ? ", idempotency key" : "")}{(synchronous == SqliteSynchronousMode.Full ? ", synchronous=FULL" : "")}";
        results.Add(Result.From("create", name, callers, count, elapsed, latencies));
        Console.WriteLine(results[^1].Line());
    }
    finally
    {
        Delete(path);
    }
}

// --keep-seed FILE reuses (or creates and keeps) the seeded file between runs; the retention step is skipped then.
var keptSeed = StringArg("--keep-seed", "");
var seedPath = keptSeed.Length > 0 ? Path.GetFullPath(keptSeed) : Path.Combine(workDir, $"notify-bench-read-{Guid.NewGuid():N}.db");
double seedSeconds = 0;
long fileBytes;
try
{
    if (!File.Exists(seedPath))
    {
        using (var database = Open(seedPath))
        {
            await new SqliteNotificationStore(database).InitializeAsync(CancellationToken.None);
        }
        var seedClock = Stopwatch.StartNew();
        Seed(seedPath, rows, users);
        seedSeconds = seedClock.Elapsed.TotalSeconds;
    }
    fileBytes = new FileInfo(seedPath).Length + (File.Exists(seedPath + "-wal") ? new FileInfo(seedPath + "-wal").Length : 0);
    Console.WriteLine($"seeded {rows:N0} notifications over {users:N0} users in {seedSeconds:F1} s ({fileBytes / 1048576.0:F0} MiB)");

    using var db = Open(seedPath);
    var reader = new SqliteNotificationStore(db);
    var random = new Random(42);
    var sampleUsers = Enumerable.Range(0, samples).Select(_ => UserId(random.Next(users))).ToArray();
    var cursors = new string?[samples];
    for (var i = 0; i < samples; i++)
    {
        cursors[i] = (await reader.ListAsync(sampleUsers[i], new NotificationQuery { Limit = 20 }, CancellationToken.None)).NextCursor;
    }

    var readCases = new (string Kind, string Name, Func<int, Task> Op)[]
    {
        ("list", "list first page (limit 20)", i => reader.ListAsync(sampleUsers[i], new NotificationQuery { Limit = 20 }, CancellationToken.None)),
        ("list", "list next page (before cursor)", i => reader.ListAsync(sampleUsers[i], new NotificationQuery { Limit = 20, Before = cursors[i] }, CancellationToken.None)),
        ("list", "list unread only", i => reader.ListAsync(sampleUsers[i], new NotificationQuery { Limit = 20, Status = NotificationStatus.Unread }, CancellationToken.None)),
        ("list", "list by type", i => reader.ListAsync(sampleUsers[i], new NotificationQuery { Limit = 20, Type = "report" }, CancellationToken.None)),
        ("unread_count", "unread count", i => reader.CountUnreadAsync(sampleUsers[i], CancellationToken.None)),
        ("list_after", "replay after an id (limit 100)", i => reader.ListAfterAsync(sampleUsers[i], cursors[i] ?? "", 100, CancellationToken.None)),
    };
    foreach (var callers in new[] { 1, 8 })
    {
        foreach (var (kind, name, op) in readCases)
        {
            Result.Mark();
            var (count, elapsed, latencies) = await RunSamplesAsync(callers, samples, op);
            results.Add(Result.From(kind, $"{name}, {callers} caller{(callers == 1 ? "" : "s")}", callers, count, elapsed, latencies));
            Console.WriteLine(results[^1].Line());
        }
    }

    // Retention over the seeded data: the newest 50 per user, in batches of 1,000.
    var retentionClock = Stopwatch.StartNew();
    var deleted = keptSeed.Length > 0
        ? 0
        : await reader.ApplyRetentionAsync(DateTimeOffset.FromUnixTimeMilliseconds(0), keepNewestPerUser: 50, batchSize: 1_000, CancellationToken.None);
    var retentionSeconds = retentionClock.Elapsed.TotalSeconds;
    Console.WriteLine($"retention (keep newest 50 per user, batches of 1000): {deleted:N0} rows in {retentionSeconds:F1} s");

    var load = $"{loadBefore} at start, {LoadAverage()} at end";
    Write(outDir, outName, note, command, seconds, rows, users, samples, seedSeconds, fileBytes, deleted, retentionSeconds, started.Elapsed, load, results);
}
finally
{
    if (keptSeed.Length == 0)
    {
        Delete(seedPath);
    }
}

static Task Create(SqliteNotificationStore store, NotificationIds ids, long i, int users, bool keyed)
{
    var user = UserId((int)(i % users));
    var notification = new Notification
    {
        Id = ids.Next(),
        UserId = user,
        Type = "bench",
        Title = "Analysis finished",
        Content = "Analysis of 000001 has finished; open the report for details.",
        Link = "/stocks/000001",
        Source = "bench",
        CreatedAt = TimeProvider.System.GetUtcNow(),
    };
    return store.CreateAsync(notification, keyed ? new IdempotencyKey("key:bench", "key-" + i.ToString(CultureInfo.InvariantCulture), "bench-request") : null, CancellationToken.None);
}

static async Task<(long Count, TimeSpan Elapsed, long[] Latencies)> RunForAsync(int callers, TimeSpan duration, Func<long, Task> op)
{
    var next = 0L;
    var clock = Stopwatch.StartNew();
    var perCaller = await Task.WhenAll(Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
    {
        var latencies = new List<long>(1 << 16);
        while (clock.Elapsed < duration)
        {
            var i = Interlocked.Increment(ref next);
            var t0 = Stopwatch.GetTimestamp();
            await op(i);
            latencies.Add(Stopwatch.GetTimestamp() - t0);
        }
        return latencies;
    })));
    var elapsed = clock.Elapsed;
    var all = perCaller.SelectMany(l => l).ToArray();
    return (all.LongLength, elapsed, all);
}

static async Task<(long Count, TimeSpan Elapsed, long[] Latencies)> RunSamplesAsync(int callers, int samples, Func<int, Task> op)
{
    for (var i = 0; i < Math.Min(200, samples); i++)
    {
        await op(i);
    }
    var next = -1;
    var clock = Stopwatch.StartNew();
    var perCaller = await Task.WhenAll(Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
    {
        var latencies = new List<long>(samples / callers + 1);
        int i;
        while ((i = Interlocked.Increment(ref next)) < samples)
        {
            var t0 = Stopwatch.GetTimestamp();
            await op(i);
            latencies.Add(Stopwatch.GetTimestamp() - t0);
        }
        return latencies;
    })));
    var elapsed = clock.Elapsed;
    var all = perCaller.SelectMany(l => l).ToArray();
    return (all.LongLength, elapsed, all);
}

static void Seed(string path, int rows, int users)
{
    using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
    connection.Open();
    using (var pragma = connection.CreateCommand())
    {
        pragma.CommandText = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -262144;";
        pragma.ExecuteNonQuery();
    }
    using var transaction = connection.BeginTransaction();
    using var insert = connection.CreateCommand();
    insert.Transaction = transaction;
    insert.CommandText = """
        INSERT INTO notifications (id, user_id, type, title, content, link, source, severity, status, created_at, read_at, metadata, idempotency_key)
        VALUES ($id, $user, $type, 'Analysis finished', 'Analysis of 000001 has finished; open the report for details.', '/stocks/000001', 'bench', 'info', $status, $created, $read, NULL, NULL)
        """;
    var id = insert.Parameters.Add("$id", SqliteType.Text);
    var user = insert.Parameters.Add("$user", SqliteType.Text);
    var type = insert.Parameters.Add("$type", SqliteType.Text);
    var status = insert.Parameters.Add("$status", SqliteType.Integer);
    var created = insert.Parameters.Add("$created", SqliteType.Integer);
    var read = insert.Parameters.Add("$read", SqliteType.Integer);
    insert.Prepare();

    // Spread over the last 30 days in id order; 70 % read, a quarter of type "report".
    var random = new Random(7);
    var end = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
    var start = end - (long)TimeSpan.FromDays(30).TotalMilliseconds;
    var step = Math.Max(1, (end - start) / rows);
    var bytes = new byte[10];
    for (var i = 0; i < rows; i++)
    {
        var at = start + i * step;
        random.NextBytes(bytes);
        id.Value = Ulid.NewUlid(DateTimeOffset.FromUnixTimeMilliseconds(at), bytes).ToString();
        user.Value = UserId(random.Next(users));
        type.Value = random.Next(4) == 0 ? "report" : "analysis";
        var isRead = random.Next(10) < 7;
        status.Value = isRead ? 1 : 0;
        created.Value = at;
        read.Value = isRead ? at + 1000 : DBNull.Value;
        insert.ExecuteNonQuery();
    }
    transaction.Commit();
    using var analyze = connection.CreateCommand();
    analyze.CommandText = "ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);";
    analyze.ExecuteNonQuery();
}

static string LoadAverage() =>
    File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

static SqliteDatabase Open(string path, SqliteSynchronousMode synchronous = SqliteSynchronousMode.Normal) =>
    new(path, TimeSpan.FromSeconds(5), maxConnections: 16, synchronous);

static string UserId(int n) => "user-" + n.ToString("D5", CultureInfo.InvariantCulture);

static void Delete(string path)
{
    foreach (var suffix in new[] { "", "-wal", "-shm" })
    {
        File.Delete(path + suffix);
    }
}

int IntArg(string name, int fallback) =>
    Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;

string StringArg(string name, string fallback) =>
    Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;

static void Write(string outDir, string outName, string note, string command, int seconds, int rows, int users, int samples, double seedSeconds, long fileBytes,
    long retentionDeleted, double retentionSeconds, TimeSpan total, string load, List<Result> results)
{
    Directory.CreateDirectory(outDir);
    var cpu = File.Exists("/proc/cpuinfo")
        ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown"
        : "unknown";
    var machine = $"{Environment.ProcessorCount} cores ({cpu}), {RuntimeInformation.OSDescription}, .NET {Environment.Version}, SQLite {SqliteVersion()}";
    var when = TimeProvider.System.GetUtcNow().ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    var md = new StringBuilder();
    md.AppendLine("# Store benchmark (SQLite)").AppendLine();
    md.AppendLine(CultureInfo.InvariantCulture, $"- Measured: {when}");
    md.AppendLine(CultureInfo.InvariantCulture, $"- Machine: {machine}");
    md.AppendLine(CultureInfo.InvariantCulture, $"- Command: `{command}`");
    md.AppendLine(CultureInfo.InvariantCulture, $"- Load average (1/5/15 min) of the shared machine: {load}.");
    md.AppendLine("- Scope: `SqliteNotificationStore` in process with the default options (WAL, `synchronous=NORMAL` unless the row says FULL, 16 pooled connections, group commit of up to 256 writes, 256 MiB mmap), no HTTP and no Redis publish.");
    md.AppendLine(CultureInfo.InvariantCulture, $"- Creates: each level runs {seconds} s after a 1 s warm-up, on a fresh file, users spread over {users:N0}.");
    md.AppendLine(CultureInfo.InvariantCulture, $"- Reads: {rows:N0} notifications over {users:N0} users (≈{rows / Math.Max(1, users)} each, 70 % read) seeded in one transaction in {seedSeconds:F1} s ({fileBytes / 1048576.0:F0} MiB); {samples:N0} random users per row.");
    md.AppendLine(CultureInfo.InvariantCulture, $"- Targets: ≥ 5,000 creates/s; p99 < 20 ms for list and unread count.");
    md.AppendLine("- CPU µs/op: process CPU time (all threads) during the row divided by its operations; unlike the latencies it barely depends on how busy the rest of the machine is.");
    if (note.Length > 0)
    {
        md.AppendLine(CultureInfo.InvariantCulture, $"- Note: {note}");
    }
    md.AppendLine();
    md.AppendLine("| operation | ops | ops/s | p50 ms | p99 ms | max ms | CPU µs/op | target |");
    md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---|");
    foreach (var r in results)
    {
        var target = r.Kind switch
        {
            "create" => r.PerSecond >= 5_000 ? "≥ 5,000/s met" : "≥ 5,000/s MISSED",
            "list" or "unread_count" => r.P99Ms < 20 ? "p99 < 20 ms met" : "p99 < 20 ms MISSED",
            _ => "",
        };
        md.AppendLine(CultureInfo.InvariantCulture, $"| {r.Name} | {r.Count:N0} | {r.PerSecond:N0} | {r.P50Ms:F2} | {r.P99Ms:F2} | {r.MaxMs:F2} | {r.CpuMsPerOp * 1000:F0} | {target} |");
    }
    md.AppendLine();
    md.AppendLine(CultureInfo.InvariantCulture, $"Retention over the seeded file (keep the newest 50 per user, batches of 1,000): {retentionDeleted:N0} rows deleted in {retentionSeconds:F1} s.");
    md.AppendLine();
    md.AppendLine(CultureInfo.InvariantCulture, $"Total run time {total.TotalSeconds:F0} s.");
    File.WriteAllText(Path.Combine(outDir, outName + ".md"), md.ToString());

    var json = JsonSerializer.Serialize(new
    {
        measured = when,
        machine,
        command,
        load_average = load,
        create_seconds = seconds,
        rows,
        users,
        samples,
        seed_seconds = seedSeconds,
        file_bytes = fileBytes,
        retention_deleted = retentionDeleted,
        retention_seconds = retentionSeconds,
        results = results.Select(r => new { kind = r.Kind, name = r.Name, callers = r.Callers, ops = r.Count, ops_per_s = r.PerSecond, p50_ms = r.P50Ms, p99_ms = r.P99Ms, max_ms = r.MaxMs, cpu_us_per_op = r.CpuMsPerOp * 1000 }),
    }, new JsonSerializerOptions { WriteIndented = true });
    File.WriteAllText(Path.Combine(outDir, outName + ".json"), json + Environment.NewLine);
    Console.WriteLine($"wrote {Path.Combine(outDir, outName)}.md and .json");
}

static string SqliteVersion()
{
    using var connection = new SqliteConnection("Data Source=:memory:");
    connection.Open();
    using var command = connection.CreateCommand();
    command.CommandText = "SELECT sqlite_version()";
    return (string)command.ExecuteScalar()!;
}

internal sealed record Result(string Kind, string Name, int Callers, long Count, double PerSecond, double P50Ms, double P99Ms, double MaxMs, double CpuMsPerOp)
{
    private static TimeSpan s_cpuMark = Process.GetCurrentProcess().TotalProcessorTime;

    /// <summary>Starts the process CPU clock for the next result.</summary>
    public static void Mark() => s_cpuMark = Process.GetCurrentProcess().TotalProcessorTime;

    public static Result From(string kind, string name, int callers, long count, TimeSpan elapsed, long[] latencies)
    {
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - s_cpuMark;
        Array.Sort(latencies);
        double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
        double At(double q) => latencies.Length == 0 ? 0 : Ms(latencies[Math.Min(latencies.Length - 1, (int)Math.Ceiling(q * latencies.Length) - 1)]);
        return new Result(kind, name, callers, count, count / elapsed.TotalSeconds, At(0.50), At(0.99), latencies.Length == 0 ? 0 : Ms(latencies[^1]),
            count == 0 ? 0 : cpu.TotalMilliseconds / count);
    }

    public string Line() => $"{Name,-48} {Count,10:N0} ops {PerSecond,10:N0}/s  p50 {P50Ms,7:F2} ms  p99 {P99Ms,7:F2} ms  max {MaxMs,7:F2} ms  cpu {CpuMsPerOp * 1000,6:F0} us/op";
}
