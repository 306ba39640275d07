using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Notify.Core.Storage;
using Notify.Core.Storage.Sqlite;
using Notify.Tests.Infrastructure;
using Notify.Tests.Realtime;

namespace Notify.Tests.Faults;

/// <summary>
/// The delivery path as deployed, for fault tests: a durable redis-server (append-only file synced on
/// every write, so it can be killed and restarted with its data), one SQLite file, two Realtime instances
/// and one Api, each a real process on loopback. Everything is killed on dispose.
/// </summary>
internal sealed class DeliveryRig : IAsyncDisposable
{
    public const string ApiKey = "fault-tests-api-key-0123456789abcdef";

    private readonly string _sqlitePath = RealtimeHost.NewSqlitePath();
    private readonly List<ServiceProcess> _services = [];

    private DeliveryRig(RedisServer redis) => Redis = redis;

    public RedisServer Redis { get; }
    public ServiceProcess A { get; private set; } = null!;
    public ServiceProcess B { get; private set; } = null!;
    public ServiceProcess Api { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;
    public string SqlitePath => _sqlitePath;

    public static async Task<DeliveryRig> StartAsync()
    {
        var rig = new DeliveryRig(RedisServer.Durable());
        try
        {
            await rig.Redis.InitializeAsync();
            (string, string)[] realtime = [("Realtime__MaxReplay", "5000"), ("Realtime__HeartbeatInterval", "00:00:02")];
            var a = RealtimeHost.StartAsync(rig.Redis, rig._sqlitePath, realtime);
            var b = RealtimeHost.StartAsync(rig.Redis, rig._sqlitePath, realtime);
            var environment = new Dictionary<string, string?>(TestEnvironment.For(rig.Redis, rig._sqlitePath))
            {
                ["Auth__ApiKeys__faults"] = ApiKey,
                ["Outbox__SweepInterval"] = "00:00:01",
                // Small batches, so draining what waited during an outage takes several.
                ["Outbox__BatchSize"] = "50",
            };
            var api = ServiceProcess.StartAsync("Notify.Api", environment);
            Task<ServiceProcess>[] starting = [a, b, api];
            try
            {
                await Task.WhenAll(starting);
            }
            finally
            {
                // Whatever started is stopped on dispose, also when another one failed to start.
                rig._services.AddRange(starting.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result));
            }
            (rig.A, rig.B, rig.Api) = (a.Result, b.Result, api.Result);
            rig.Http = new HttpClient { BaseAddress = rig.Api.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
            rig.Http.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
            return rig;
        }
        catch
        {
            await rig.DisposeAsync();
            throw;
        }
    }

    /// <summary>Creates a notification through the Api; its id when the Api acknowledged it (201), else null.</summary>
    public Task<string?> CreateAsync(string userId, string title, CancellationToken cancellationToken) =>
        PostAsync("/api/notifications", new { user_id = userId, type = "fault", title }, HttpStatusCode.Created, cancellationToken);

    /// <summary>Broadcasts on a channel through the Api; the stream offset when it was accepted (202), else null.</summary>
    public Task<string?> BroadcastAsync(string channel, string content, CancellationToken cancellationToken) =>
        PostAsync("/api/notifications/broadcast", new { type = "fault", content, channel }, HttpStatusCode.Accepted, cancellationToken);

    private async Task<string?> PostAsync(string path, object body, HttpStatusCode success, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await Http.PostAsJsonAsync(path, body, ApiJson, cancellationToken);
            if (response.StatusCode != success)
            {
                return null;
            }
            var answer = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
            return answer.GetProperty("id").GetString();
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>How many notifications wait in the outbox (stored, not yet marked published).</summary>
    public async Task<int> UnpublishedCountAsync(CancellationToken cancellationToken)
    {
        using var database = new SqliteDatabase(_sqlitePath, TimeSpan.FromSeconds(10), 1, SqliteSynchronousMode.Normal);
        return (await new SqliteNotificationStore(database).ListUnpublishedAsync(100_000, cancellationToken)).Count;
    }

    /// <summary>Kills every pub/sub connection of the Redis server (<c>CLIENT KILL TYPE pubsub</c>); returns how many.</summary>
    public async Task<long> KillPubSubConnectionsAsync()
    {
        await using var redis = await Redis.ConnectAsync();
        return (long)await redis.GetDatabase().ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
    }

    public async ValueTask DisposeAsync()
    {
        Http?.Dispose();
        foreach (var service in _services)
        {
            await service.DisposeAsync();
        }
        await Redis.DisposeAsync();
        TestEnvironment.DeleteSqliteFiles(_sqlitePath);
    }

    private static readonly JsonSerializerOptions ApiJson = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}

/// <summary>
/// One user's notification stream read in the background, recording every <c>notification</c> id and
/// every channel <c>message</c> offset in arrival order, without de-duplicating, so a test can count
/// losses and duplicates. When the stream ends it reconnects to the next instance, as the SDK does:
/// with <c>last_id</c> = the greatest id seen and each channel's last offset as <c>since</c>.
/// </summary>
internal sealed class LiveClient : IAsyncDisposable
{
    private readonly string _user;
    private readonly IReadOnlyList<ServiceProcess> _instances;
    private readonly string[] _channels;
    private readonly Lock _gate = new();
    private readonly List<string> _notifications = [];
    private readonly Dictionary<string, long> _arrivals = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _messages = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _firstReady = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _loop = Task.CompletedTask;
    private string? _lastId;

    private LiveClient(string user, IReadOnlyList<ServiceProcess> instances, string[] channels)
    {
        _user = user;
        _instances = instances;
        _channels = channels;
        foreach (var channel in channels)
        {
            _messages[channel] = [];
        }
    }

    public string User => _user;

    /// <summary>The instance the stream was opened on first.</summary>
    public string FirstInstance => _instances[0].BaseAddress.ToString();

    /// <summary>How many times the stream was (re)opened.</summary>
    public int Connects { get; private set; }

    /// <summary>Connects to <paramref name="instances"/>[0] (subscribing to <paramref name="channels"/>) and returns once it is live.</summary>
    public static async Task<LiveClient> StartAsync(string user, IReadOnlyList<ServiceProcess> instances, params string[] channels)
    {
        var client = new LiveClient(user, instances, channels);
        client._loop = Task.Run(client.RunAsync);
        await client._firstReady.Task.WaitAsync(TimeSpan.FromSeconds(30));
        return client;
    }

    public List<string> Notifications()
    {
        lock (_gate)
        {
            return [.. _notifications];
        }
    }

    /// <summary>When <paramref name="id"/> first arrived (a <see cref="Stopwatch"/> timestamp), if it did.</summary>
    public long? ArrivedAt(string id)
    {
        lock (_gate)
        {
            return _arrivals.TryGetValue(id, out var at) ? at : null;
        }
    }

    public List<string> Messages(string channel)
    {
        lock (_gate)
        {
            return [.. _messages[channel]];
        }
    }

    /// <summary>Waits until every id in <paramref name="expected"/> has arrived (or the deadline passes).</summary>
    public async Task WaitForAsync(IReadOnlyCollection<string> expected, Func<LiveClient, IEnumerable<string>> received, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            var have = received(this).ToHashSet(StringComparer.Ordinal);
            if (expected.All(have.Contains))
            {
                return;
            }
            await Task.Delay(100);
        }
    }

    private async Task RunAsync()
    {
        var index = 0;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await ReadOneStreamAsync(_instances[index]);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or JsonException)
            {
            }
            if (_stop.IsCancellationRequested)
            {
                return;
            }
            index = (index + 1) % _instances.Count;
            try
            {
                await Task.Delay(100, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task ReadOneStreamAsync(ServiceProcess instance)
    {
        using var socket = new ClientWebSocket();
        string? lastId;
        lock (_gate)
        {
            lastId = _lastId;
        }
        var url = $"ws://127.0.0.1:{instance.Port}/api/ws/notifications?token={Uri.EscapeDataString(TestTokens.For(_user))}"
            + (lastId is null ? "" : "&last_id=" + lastId);
        using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
        {
            connectTimeout.CancelAfter(TimeSpan.FromSeconds(10));
            await socket.ConnectAsync(new Uri(url), connectTimeout.Token);
        }
        Connects++;
        var buffer = new byte[64 * 1024];
        var pendingSubscriptions = _channels.Length;
        using var message = new MemoryStream();
        while (!_stop.IsCancellationRequested)
        {
            var result = await socket.ReceiveAsync(buffer, _stop.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return;
            }
            message.Write(buffer, 0, result.Count);
            if (!result.EndOfMessage)
            {
                continue;
            }
            using var frame = JsonDocument.Parse(message.ToArray());
            message.SetLength(0);
            var root = frame.RootElement;
            switch (root.GetProperty("type").GetString())
            {
                case "connected":
                    foreach (var channel in _channels)
                    {
                        string? since;
                        lock (_gate)
                        {
                            since = _messages[channel].Count > 0 ? _messages[channel][^1] : null;
                        }
                        var subscribe = since is null
                            ? JsonSerializer.SerializeToUtf8Bytes(new { type = "subscribe", channel })
                            : JsonSerializer.SerializeToUtf8Bytes(new { type = "subscribe", channel, since });
                        await socket.SendAsync(subscribe, WebSocketMessageType.Text, true, _stop.Token);
                    }
                    if (pendingSubscriptions == 0)
                    {
                        _firstReady.TrySetResult();
                    }
                    break;
                case "subscribed":
                    if (--pendingSubscriptions == 0)
                    {
                        _firstReady.TrySetResult();
                    }
                    break;
                case "notification":
                    var id = root.GetProperty("data").GetProperty("id").GetString()!;
                    lock (_gate)
                    {
                        _notifications.Add(id);
                        _arrivals.TryAdd(id, Stopwatch.GetTimestamp());
                        if (_lastId is null || CompareIds(id, _lastId) > 0)
                        {
                            _lastId = id;
                        }
                    }
                    break;
                case "message":
                    var data = root.GetProperty("data");
                    lock (_gate)
                    {
                        _messages[data.GetProperty("channel").GetString()!].Add(data.GetProperty("id").GetString()!);
                    }
                    break;
            }
        }
    }

    /// <summary>The SDK's id order: a longer id is newer, equal lengths compare as strings.</summary>
    public static int CompareIds(string a, string b) => a.Length != b.Length ? a.Length - b.Length : string.CompareOrdinal(a, b);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop.WaitAsync(TimeSpan.FromSeconds(10));
        _stop.Dispose();
    }
}
