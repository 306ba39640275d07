using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Notify.Core.Auth;
using Notify.Core.Messaging;
using Notify.Core.Notifications;
using Notify.Core.Storage;
using Notify.Core.Storage.Sqlite;
using Notify.Core.Tasks;
using Notify.Tests.Infrastructure;
using StackExchange.Redis;

namespace Notify.Tests.Worker;

/// <summary>
/// Real Worker processes on the test Redis, with their own queue key prefix, Hangfire prefix and SQLite
/// file, plus in-test clients of the same queue, progress store, bus and store. Disposing stops every
/// process and deletes the file.
/// </summary>
internal sealed class WorkerCluster : IAsyncDisposable
{
    private readonly IRedisEndpoint _redis;
    private readonly Dictionary<string, string?> _environment;
    private readonly List<ServiceProcess> _workers = [];
    private SqliteDatabase? _database;

    private WorkerCluster(IRedisEndpoint redis, ConnectionMultiplexer mux, Dictionary<string, string?> environment, QueueOptions options)
    {
        _redis = redis;
        Redis = mux;
        _environment = environment;
        Options = options;
        var monitor = new Fixed<QueueOptions>(options);
        Queue = new RedisTaskQueue(mux, Channels, monitor, TimeProvider.System);
        Progress = new RedisProgressStore(mux, monitor, TimeProvider.System);
        Bus = new RedisMessageBus(mux, Channels, new Fixed<ChannelOptions>(new ChannelOptions()), TimeProvider.System);
        Tokens = new NotifyTokens(Microsoft.Extensions.Options.Options.Create(new AuthOptions { SigningKey = TestEnvironment.SigningKey }), TimeProvider.System);
    }

    public ConnectionMultiplexer Redis { get; }
    public QueueOptions Options { get; }
    public RedisChannels Channels { get; } = new();
    public RedisTaskQueue Queue { get; }
    public RedisProgressStore Progress { get; }
    public RedisMessageBus Bus { get; }
    public NotifyTokens Tokens { get; }
    public IReadOnlyList<ServiceProcess> Workers => _workers;
    public string SqlitePath => _environment["Store__SqlitePath"]!;
    public string HangfirePrefix => _environment["Worker__HangfirePrefix"]!;

    /// <summary>
    /// A cluster whose workers get <paramref name="settings"/> (configuration keys such as
    /// <c>Queue:PerUserConcurrency</c>) on top of fast test defaults: 3 s visibility timeout (a Worker stops a
    /// handler whose lease it cannot prove, and a freshly started process on a loaded machine can take over a
    /// second for its first report), recovery every second.
    /// </summary>
    public static async Task<WorkerCluster> CreateAsync(IRedisEndpoint redis, IReadOnlyDictionary<string, string>? settings = null)
    {
        var unique = Guid.NewGuid().ToString("N")[..10];
        var environment = new Dictionary<string, string?>(TestEnvironment.For(redis))
        {
            // Hash-tagged, so the same cluster runs on one Redis node and on a Redis Cluster.
            ["Queue__KeyPrefix"] = "{tq:" + unique + "}",
            ["Worker__HangfirePrefix"] = "{thf:" + unique + "}:",
            ["Queue__VisibilityTimeout"] = "00:00:03",
            ["Worker__RecoveryCron"] = "* * * * * *",
            ["Worker__ShutdownGrace"] = "00:00:01",
            ["Worker__Demo__StepDuration"] = "00:00:00.050",
            ["RuntimeSettings__RefreshInterval"] = "00:00:01",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }
        var options = new QueueOptions
        {
            KeyPrefix = environment["Queue__KeyPrefix"]!,
            VisibilityTimeout = TimeSpan.Parse(environment["Queue__VisibilityTimeout"]!, System.Globalization.CultureInfo.InvariantCulture),
        };
        if (environment.TryGetValue("Queue__MaxAttempts", out var attempts))
        {
            options.MaxAttempts = int.Parse(attempts!, System.Globalization.CultureInfo.InvariantCulture);
        }
        return new WorkerCluster(redis, await redis.ConnectAsync(), environment, options);
    }

    /// <summary>Starts one more Worker process and waits until it is alive.</summary>
    public async Task<ServiceProcess> StartWorkerAsync()
    {
        var worker = await ServiceProcess.StartAsync("Notify.Worker", _environment);
        _workers.Add(worker);
        return worker;
    }

    /// <summary>The notification store the workers write to (the same SQLite file).</summary>
    public INotificationStore OpenStore()
    {
        _database ??= new SqliteDatabase(SqlitePath, TimeSpan.FromSeconds(10), 4, SqliteSynchronousMode.Normal);
        return new SqliteNotificationStore(_database);
    }

    /// <summary>A signed token for <paramref name="userId"/>.</summary>
    public string Token(string userId, params string[] roles) => Tokens.Issue(userId, roles, TimeSpan.FromMinutes(10)).Token;

    /// <summary>Waits until <paramref name="condition"/> holds, polling; fails with <paramref name="what"/> at the deadline.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out after {timeout} waiting for: {what}");
            }
            await Task.Delay(20);
        }
    }

    /// <summary>Records every frame published on task topics (pattern subscription), by task id, in arrival order.</summary>
    public Task<FrameRecorder> RecordTaskFramesAsync() => RecordAsync(BusTopic.Task);

    /// <summary>Records every frame published on batch topics, by batch id, in arrival order.</summary>
    public Task<FrameRecorder> RecordBatchFramesAsync() => RecordAsync(BusTopic.Batch);

    /// <summary>Records every frame published on user topics, by user id, in arrival order.</summary>
    public Task<FrameRecorder> RecordUserFramesAsync() => RecordAsync(BusTopic.User);

    private async Task<FrameRecorder> RecordAsync(Func<string, BusTopic> topic)
    {
        var recorder = new FrameRecorder();
        if (topic("-").Kind == BusTopicKind.User)
        {
            // User topics share the buckets' channels; each message names its user.
            var users = await Redis.GetSubscriber().SubscribeAsync(RedisChannel.Pattern(Channels.Prefix + ":users:*"));
            users.OnMessage(message => recorder.Add(RedisMessageBus.UserOf((byte[])message.Message!)!, RedisMessageBus.FrameOf((byte[])message.Message!).ToArray()));
            return recorder;
        }
        // The topic's channel name around its key.
        var template = Channels.For(topic("\u0001"));
        var head = template[..template.IndexOf('\u0001', StringComparison.Ordinal)];
        var tail = template[(head.Length + 1)..];
        var pattern = RedisChannel.Pattern(head + "*" + tail);
        // A message queue (not a handler) so frames are recorded one at a time in publish order:
        // StackExchange.Redis runs plain handlers concurrently, with no order guarantee.
        var messages = await Redis.GetSubscriber().SubscribeAsync(pattern);
        messages.OnMessage(message => recorder.Add(message.Channel.ToString()[head.Length..^tail.Length], RedisMessageBus.FrameOf((byte[])message.Message!).ToArray()));
        return recorder;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var worker in _workers)
        {
            await worker.DisposeAsync();
        }
        _database?.Dispose();
        await Redis.DisposeAsync();
        TestEnvironment.DeleteSqliteFiles(SqlitePath);
    }

    private sealed class Fixed<T>(T value) : IOptionsMonitor<T>
    {
        public T CurrentValue => value;
        public T Get(string? name) => value;
        public IDisposable? OnChange(Action<T, string?> listener) => null;
    }
}

/// <summary>Frames seen on task topics: type, data, in arrival order per task.</summary>
internal sealed class FrameRecorder
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<(string Type, JsonElement Data)>> _frames = new();

    public event Action<string, string, JsonElement>? Received;

    public void Add(string taskId, byte[] frame)
    {
        using var doc = JsonDocument.Parse(frame);
        var type = doc.RootElement.GetProperty("type").GetString()!;
        var data = doc.RootElement.GetProperty("data").Clone();
        _frames.GetOrAdd(taskId, _ => new()).Enqueue((type, data));
        Received?.Invoke(taskId, type, data);
    }

    public IReadOnlyList<(string Type, JsonElement Data)> For(string taskId) =>
        _frames.TryGetValue(taskId, out var q) ? [.. q] : [];

    public int TerminalCount(string taskId) => For(taskId).Count(f => f.Type is "completed" or "error");

    public static string Describe(IEnumerable<(string Type, JsonElement Data)> frames) =>
        string.Join("\n", frames.Select(f => f.Type + " " + f.Data.GetRawText()));

    public static string Text(byte[] frame) => Encoding.UTF8.GetString(frame);
}
