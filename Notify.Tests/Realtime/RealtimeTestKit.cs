using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Notify.Core.Auth;
using Notify.Core.Json;
using Notify.Core.Messaging;
using Notify.Core.Notifications;
using Notify.Core.Preferences;
using Notify.Core.Storage;
using Notify.Core.Storage.Sqlite;
using Notify.Core.Tasks;
using Notify.Tests.Infrastructure;
using StackExchange.Redis;

namespace Notify.Tests.Realtime;

/// <summary>Tokens signed with the test key: valid, expired, unsigned (<c>alg: none</c>) and wrongly signed.</summary>
internal static class TestTokens
{
    private static readonly NotifyTokens Tokens = Create(TestEnvironment.SigningKey, TimeProvider.System);

    public static string For(string userId, bool admin = false, TimeSpan? lifetime = null) =>
        Tokens.Issue(userId, admin ? [NotifyRoles.Admin] : [], lifetime ?? TimeSpan.FromHours(1)).Token;

    public static string Expired(string userId)
    {
        var past = new FakeTimeProvider(DateTimeOffset.UtcNow.AddHours(-2));
        return Create(TestEnvironment.SigningKey, past).Issue(userId, [], TimeSpan.FromMinutes(5)).Token;
    }

    public static string WrongKey(string userId) =>
        Create("another-signing-key-that-is-long-enough-0123", TimeProvider.System).Issue(userId, [], TimeSpan.FromHours(1)).Token;

    public static string AlgNone(string userId)
    {
        static string B64(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var exp = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds();
        return B64("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + B64($"{{\"sub\":\"{userId}\",\"iss\":\"notify\",\"aud\":\"notify\",\"exp\":{exp}}}") + ".";
    }

    private static NotifyTokens Create(string key, TimeProvider time) =>
        new(Microsoft.Extensions.Options.Options.Create(new AuthOptions { SigningKey = key, ClockSkew = TimeSpan.Zero }), time);
}

/// <summary>
/// What the Api and the Worker do, done in-process against the same Redis and SQLite file as the
/// Realtime instances under test: store a notification then publish it, publish on channels, queue tasks.
/// </summary>
internal sealed class TestBackplane : IAsyncDisposable
{
    private readonly SqliteDatabase _database;

    private TestBackplane(ConnectionMultiplexer redis, SqliteDatabase database, string sqlitePath)
    {
        Redis = redis;
        SqlitePath = sqlitePath;
        _database = database;
        Store = new SqliteNotificationStore(database);
        Ids = new NotificationIds(TimeProvider.System);
        Bus = new RedisMessageBus(redis, new RedisChannels(), new Static<ChannelOptions>(new ChannelOptions { HistorySize = 50 }), TimeProvider.System);
        var queueOptions = new Static<QueueOptions>(new QueueOptions());
        Queue = new RedisTaskQueue(redis, new RedisChannels(), queueOptions, TimeProvider.System);
    }

    public ConnectionMultiplexer Redis { get; }
    public string SqlitePath { get; }
    public SqliteNotificationStore Store { get; }
    public NotificationIds Ids { get; }
    public RedisMessageBus Bus { get; }
    public RedisTaskQueue Queue { get; }

    public static async Task<TestBackplane> CreateAsync(RedisServer redis, string sqlitePath)
    {
        var database = new SqliteDatabase(sqlitePath, TimeSpan.FromSeconds(10), 8, SqliteSynchronousMode.Normal);
        var backplane = new TestBackplane(await redis.ConnectAsync(), database, sqlitePath);
        await backplane.Store.InitializeAsync(CancellationToken.None);
        // The Realtime reads preferences when a notification stream opens.
        await new SqlitePreferencesStore(database).InitializeAsync(CancellationToken.None);
        return backplane;
    }

    /// <summary>
    /// Stores a notification for <paramref name="userId"/> and publishes it, as the Api does; without
    /// <paramref name="publish"/> it is left in the outbox, as by a writer that died before publishing.
    /// </summary>
    public async Task<Notification> NotifyAsync(string userId, string title, bool publish = true)
    {
        var notification = new Notification
        {
            Id = Ids.Next(),
            UserId = userId,
            Type = "test",
            Title = title,
            Content = "content of " + title,
            CreatedAt = TimeProvider.System.GetUtcNow(),
        };
        var stored = (await Store.CreateAsync(notification, null, CancellationToken.None)).Notification;
        if (publish)
        {
            await Bus.PublishAsync(BusTopic.User(userId), Frames.Serialize("notification", stored), CancellationToken.None);
            await Store.MarkPublishedAsync([new NotificationKey(userId, stored.Id)], CancellationToken.None);
        }
        return stored;
    }

    /// <summary>Stores runtime settings as <c>PUT /api/admin/settings</c> does (replacing the stored set).</summary>
    public async Task StoreSettingsAsync(IReadOnlyDictionary<string, string> values)
    {
        var settings = new Notify.Core.Storage.Sqlite.SqliteSettingsStore(_database);
        await settings.InitializeAsync(CancellationToken.None);
        var current = await settings.GetAsync(CancellationToken.None);
        await settings.TryPutAsync(values, current.Version, TimeProvider.System.GetUtcNow(), CancellationToken.None);
    }

    /// <summary>Stores <paramref name="owner"/>'s preferences as <c>PUT /api/me/preferences</c> does; with <paramref name="announce"/> publishes its <c>preferences</c> frame too.</summary>
    public async Task StorePreferencesAsync(string owner, NotificationPreferences preferences, bool announce = false)
    {
        var store = new SqlitePreferencesStore(_database);
        await store.InitializeAsync(CancellationToken.None);
        var current = await store.GetAsync(owner, CancellationToken.None);
        var stored = await store.TryPutAsync(owner, preferences, current.Version, TimeProvider.System.GetUtcNow(), CancellationToken.None);
        if (announce)
        {
            await Bus.PublishAsync(BusTopic.User(owner), Frames.Serialize("preferences", new { version = stored!.Version }), CancellationToken.None);
        }
    }

    /// <summary>Publishes a broadcast to every connected user, as <c>POST /api/notifications/broadcast</c> without a channel does.</summary>
    public Task<ChannelPublication> PublishBroadcastAsync(object payload) =>
        Bus.PublishToChannelAsync(BusTopic.Broadcast, "broadcast", JsonSerializer.SerializeToElement(payload, NotifyJson.Options), CancellationToken.None);

    public Task<ChannelPublication> PublishToChannelAsync(string channel, object payload) =>
        Bus.PublishToChannelAsync(BusTopic.Channel(channel), channel, JsonSerializer.SerializeToElement(payload, NotifyJson.Options), CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        await Redis.DisposeAsync();
        _database.Dispose();
    }

    private sealed class Static<T>(T value) : IOptionsMonitor<T>
    {
        public T CurrentValue => value;
        public T Get(string? name) => value;
        public IDisposable? OnChange(Action<T, string?> listener) => null;
    }
}

/// <summary>Starts Realtime instances with test settings.</summary>
internal static class RealtimeHost
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    public static Task<ServiceProcess> StartAsync(IRedisEndpoint redis, string sqlitePath, params (string Key, string Value)[] settings)
    {
        var environment = new Dictionary<string, string?>(TestEnvironment.For(redis, sqlitePath))
        {
            ["Auth__ClockSkew"] = "00:00:00",
            ["Realtime__PresenceTtl"] = "00:00:03",
            ["Realtime__PresenceRefreshInterval"] = "00:00:00.500",
        };
        foreach (var (key, value) in settings)
        {
            environment[key] = value;
        }
        return ServiceProcess.StartAsync("Notify.Realtime", environment);
    }

    public static string NewSqlitePath() => Path.Combine(Path.GetTempPath(), $"notify-rt-{Guid.NewGuid():N}.db");
}

/// <summary>One received WebSocket message: a frame, a bare text, or the close.</summary>
internal sealed record Received(string? Text, JsonElement Json, WebSocketCloseStatus? CloseStatus)
{
    public string? Type => Json.ValueKind == JsonValueKind.Object && Json.TryGetProperty("type", out var t) ? t.GetString() : null;
    public JsonElement Data => Json.GetProperty("data");
    public bool IsClose => CloseStatus is not null;
    public int CloseCode => (int)CloseStatus!.Value;

    public override string ToString() => IsClose ? $"close {CloseCode}" : Text ?? "";
}

/// <summary>A <see cref="ClientWebSocket"/> with bounded receive helpers.</summary>
internal sealed class WsClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();

    public WebSocketState State => _socket.State;

    /// <summary>The upgrade response's headers (collected for every connection).</summary>
    public IReadOnlyDictionary<string, IEnumerable<string>>? ResponseHeaders => _socket.HttpResponseHeaders;

    public static async Task<WsClient> ConnectAsync(ServiceProcess service, string path, string? token, string? query = null, WebSocketDeflateOptions? deflate = null, Action<ClientWebSocketOptions>? configure = null)
    {
        var client = new WsClient();
        client._socket.Options.CollectHttpResponseDetails = true;
        client._socket.Options.DangerousDeflateOptions = deflate;
        configure?.Invoke(client._socket.Options);
        var url = $"ws://127.0.0.1:{service.Port}{path}?{(token is null ? "" : "token=" + Uri.EscapeDataString(token))}{(query is null ? "" : "&" + query)}";
        using var timeout = new CancellationTokenSource(RealtimeHost.Wait);
        await client._socket.ConnectAsync(new Uri(url), timeout.Token);
        return client;
    }

    /// <summary>The HTTP status of a WebSocket request the server refused before upgrading (e.g. 503), with its <c>Retry-After</c>.</summary>
    public static async Task<(int Status, string? RetryAfter)> RefusedUpgradeAsync(ServiceProcess service, string path, string token)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        using var timeout = new CancellationTokenSource(RealtimeHost.Wait);
        var url = $"ws://127.0.0.1:{service.Port}{path}?token={Uri.EscapeDataString(token)}";
        try
        {
            await socket.ConnectAsync(new Uri(url), timeout.Token);
        }
        catch (WebSocketException)
        {
            var retryAfter = socket.HttpResponseHeaders?.TryGetValue("Retry-After", out var values) == true ? string.Join(",", values) : null;
            return ((int)socket.HttpStatusCode, retryAfter);
        }
        throw new InvalidOperationException("The upgrade was accepted.");
    }

    public async Task SendAsync(string text)
    {
        using var timeout = new CancellationTokenSource(RealtimeHost.Wait);
        await _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, timeout.Token);
    }

    public Task SendAsync(object frame) => SendAsync(JsonSerializer.Serialize(frame, NotifyJson.Options));

    /// <summary>The next message (or the close), within <paramref name="timeout"/>.</summary>
    public async Task<Received> ReceiveAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? RealtimeHost.Wait);
        var buffer = new byte[16 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await _socket.ReceiveAsync(buffer, cts.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return new Received(null, default, result.CloseStatus);
            }
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                var text = Encoding.UTF8.GetString(message.ToArray());
                JsonElement json = default;
                if (text.StartsWith('{'))
                {
                    json = JsonDocument.Parse(text).RootElement.Clone();
                }
                return new Received(text, json, null);
            }
        }
    }

    /// <summary>The next message that is not a heartbeat, within <paramref name="timeout"/> in all (heartbeats do not extend it).</summary>
    public async Task<Received> NextAsync(TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? RealtimeHost.Wait);
        while (true)
        {
            var received = await ReceiveAsync(timeout).WaitAsync(deadline.Token);
            if (received.Type != "heartbeat")
            {
                return received;
            }
        }
    }

    /// <summary>Skips frames until one of <paramref name="type"/> (or the close) arrives.</summary>
    public async Task<Received> NextOfTypeAsync(string type, TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? RealtimeHost.Wait);
        while (true)
        {
            var received = await ReceiveAsync(timeout ?? RealtimeHost.Wait).WaitAsync(deadline.Token);
            if (received.IsClose || received.Type == type)
            {
                return received;
            }
        }
    }

    /// <summary>Reads until the server closes; returns the close code.</summary>
    public async Task<int> ClosedAsync(TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? RealtimeHost.Wait);
        while (true)
        {
            var received = await ReceiveAsync(timeout ?? RealtimeHost.Wait).WaitAsync(deadline.Token);
            if (received.IsClose)
            {
                return received.CloseCode;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
            }
        }
        _socket.Dispose();
    }
}
