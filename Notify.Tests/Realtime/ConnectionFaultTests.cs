using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Data.Sqlite;

namespace Notify.Tests.Realtime;

/// <summary>
/// Whatever fails inside a connection (a client frame, the store, Redis, the progress watcher, the first
/// SSE write), the connection ends with a documented code and gives back everything it held: after each
/// fault the same user can again hold <c>Realtime:MaxConnectionsPerUser</c> (5) streams at once.
/// </summary>
public sealed class ConnectionFaultTests(RealtimeFaultFixture instance) : IClassFixture<RealtimeFaultFixture>
{
    private const int MaxPerUser = 5;

    private static string NewUser(string name) => RealtimeClusterFixture.NewUser(name);

    [Fact]
    public async Task Subscribe_MalformedSinceOnFiveConnections_ErrorFrameEachStaysUsableAndSlotsComeBack()
    {
        var user = NewUser("since");
        for (var i = 0; i < MaxPerUser; i++)
        {
            await using var client = await WsClient.ConnectAsync(instance.Service, "/api/ws/notifications", TestTokens.For(user));
            Assert.Equal("connected", (await client.NextAsync()).Type);

            await client.SendAsync("{\"type\":\"subscribe\",\"channel\":\"public:x\",\"since\":\"abc\"}");
            var error = await client.NextAsync();
            Assert.Equal("error", error.Type);
            Assert.Equal("bad_request", error.Data.GetProperty("code").GetString());
            Assert.Contains("since", error.Data.GetProperty("message").GetString(), StringComparison.Ordinal);

            await client.SendAsync("{\"type\":\"subscribe\",\"channel\":\"public:x\",\"since\":123}");
            Assert.Equal("bad_request", (await client.NextAsync()).Data.GetProperty("code").GetString());

            await client.SendAsync(new { type = "ping" });
            Assert.Equal("pong", (await client.NextAsync()).Type);
            await client.SendAsync(new { type = "subscribe", channel = "public:x", since = "0-0" });
            Assert.Equal("subscribed", (await client.NextAsync()).Type);
        }

        await instance.AssertReleasedAsync(user, MaxPerUser);
    }

    [Fact]
    public async Task Subscribe_RedisRefusesSubscribe_Closes1011AndReleasesEverything()
    {
        var user = NewUser("subfail");
        await using (var client = await WsClient.ConnectAsync(instance.Service, "/api/ws/notifications", TestTokens.For(user)))
        {
            Assert.Equal("connected", (await client.NextAsync()).Type);
            await using (await instance.DenyRedisAsync("subscribe"))
            {
                await client.SendAsync(new { type = "subscribe", channel = "public:" + Guid.NewGuid().ToString("N")[..8] });
                Assert.Equal(1011, await client.ClosedAsync());
            }
        }

        await instance.AssertReleasedAsync(user, MaxPerUser);
    }

    [Fact]
    public async Task Open_RedisRefusesSubscribe_Closes1011AndReleasesEverything()
    {
        var user = NewUser("openfail");
        await using (await instance.DenyRedisAsync("subscribe"))
        {
            for (var i = 0; i < MaxPerUser + 1; i++)
            {
                await using var client = await WsClient.ConnectAsync(instance.Service, "/api/ws/notifications", TestTokens.For(user));
                Assert.Equal(1011, await client.ClosedAsync());
            }
        }

        await instance.AssertReleasedAsync(user, MaxPerUser);
    }

    [Fact]
    public async Task MarkRead_StoreLocked_Closes1011AndReleasesEverything()
    {
        var user = NewUser("storefail");
        var notification = await instance.Backplane.NotifyAsync(user, "locked", publish: false);
        await using (var client = await WsClient.ConnectAsync(instance.Service, "/api/ws/notifications", TestTokens.For(user)))
        {
            Assert.Equal("connected", (await client.NextAsync()).Type);
            // Another process holds the write lock longer than the instance's busy timeout (1 s).
            await using (var locker = new SqliteConnection($"Data Source={instance.Backplane.SqlitePath}"))
            {
                await locker.OpenAsync(TestContext.Current.CancellationToken);
                using var transaction = locker.BeginTransaction(deferred: false);

                await client.SendAsync(new { type = "mark_read", id = notification.Id });
                Assert.Equal(1011, await client.ClosedAsync());
            }
        }

        await instance.AssertReleasedAsync(user, MaxPerUser);
        Assert.Equal(1, await instance.Backplane.Store.CountUnreadAsync(user, CancellationToken.None));
    }

    [Fact]
    public async Task TaskWatcher_RedisFails_Closes1011AndReleasesEverything()
    {
        var user = NewUser("watchfail");
        var task = await instance.Backplane.Queue.EnqueueAsync(user, "demo", null, TestContext.Current.CancellationToken);
        try
        {
            await using (var client = await WsClient.ConnectAsync(instance.Service, $"/api/ws/tasks/{task.Id}", TestTokens.For(user)))
            {
                Assert.Equal("connected", (await client.NextAsync()).Type);
                Assert.Equal("progress", (await client.NextAsync()).Type);
                // The silent stream re-reads the snapshot every second; that read now fails.
                await using (await instance.DenyRedisAsync("hgetall", "get"))
                {
                    Assert.Equal(1011, await client.ClosedAsync());
                }
            }
        }
        finally
        {
            await instance.Backplane.Queue.CancelAsync(task.Id, CancellationToken.None);
        }

        await instance.AssertReleasedAsync(user, MaxPerUser);
    }

    [Fact]
    public async Task TaskSocket_LookupFails_Closes1011AndReleasesEverything()
    {
        var user = NewUser("lookfail");
        await using (await instance.DenyRedisAsync("hgetall"))
        {
            for (var i = 0; i < MaxPerUser + 1; i++)
            {
                await using var client = await WsClient.ConnectAsync(instance.Service, "/api/ws/tasks/" + Ulid.NewUlid().ToString().ToLowerInvariant(), TestTokens.For(user));
                Assert.Equal(1011, await client.ClosedAsync());
            }
        }

        await instance.AssertReleasedAsync(user, MaxPerUser);
    }

    [Fact]
    public async Task SseStream_ClientGoneBeforeFirstWrite_ReleasesItsSlot()
    {
        var user = NewUser("ssegone");
        var token = TestTokens.For(user);
        // Requests whose client resets the connection right after sending: the stream's first write fails
        // (or finds the request aborted) and must still give its slot back.
        for (var i = 0; i < 2 * MaxPerUser; i++)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, instance.Service.Port), TestContext.Current.CancellationToken);
            var request = $"GET /api/sse/notifications?token={Uri.EscapeDataString(token)} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n";
            await socket.SendAsync(Encoding.ASCII.GetBytes(request), SocketFlags.None, TestContext.Current.CancellationToken);
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }

        await instance.AssertReleasedAsync(user, MaxPerUser);
    }
}
