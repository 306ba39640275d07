using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Notify.Realtime.Transports;

namespace Notify.Tests.Realtime;

/// <summary>
/// WebSocket upgrades over real sockets at the edges of the direct upgrade (<c>Realtime:DirectUpgrade</c>):
/// what it takes runs as before, what it leaves goes to HTTP unread and is answered as before. Every test
/// runs against an instance with the direct upgrade and one without, so both answer alike.
/// </summary>
public abstract class WebSocketUpgradeTests<TFixture>(TFixture instance) where TFixture : SingleRealtimeFixture
{
    private const string Key = "dGhlIHNhbXBsZSBub25jZQ==";

    private static string NewUser(string name) => RealtimeClusterFixture.NewUser(name);

    [Fact]
    public async Task Upgrade_NotificationStream_RoundTrips()
    {
        var user = NewUser("plain");
        await using var client = await WsClient.ConnectAsync(instance.Service, "/api/ws/notifications", TestTokens.For(user));
        var connected = await client.NextAsync();
        Assert.Equal("connected", connected.Type);
        Assert.Equal(user, connected.Data.GetProperty("user_id").GetString());

        var sent = await instance.Backplane.NotifyAsync(user, "hello");
        Assert.Equal(sent.Id, (await client.NextAsync()).Data.GetProperty("id").GetString());
        await client.SendAsync("ping");
        Assert.Equal("pong", (await client.NextAsync()).Text);
    }

    [Fact]
    public async Task Upgrade_BadToken_Closed4001()
    {
        await using var client = await WsClient.ConnectAsync(instance.Service, "/api/ws/notifications", TestTokens.WrongKey(NewUser("bad")));
        Assert.Equal(4001, await client.ClosedAsync());
    }

    [Fact]
    public async Task Upgrade_TokenInAuthorizationHeader_Authenticates()
    {
        var user = NewUser("header");
        var token = TestTokens.For(user);
        await using var client = await WsClient.ConnectAsync(instance.Service, "/api/ws/notifications", token: null,
            configure: o => o.SetRequestHeader("Authorization", "Bearer " + token));

        var connected = await client.NextAsync();
        Assert.Equal("connected", connected.Type);
        Assert.Equal(user, connected.Data.GetProperty("user_id").GetString());
    }

    [Fact]
    public async Task Upgrade_PercentEncodedQuery_TokenAndLastIdDecoded()
    {
        var user = NewUser("encoded");
        var first = await instance.Backplane.NotifyAsync(user, "seen");
        var missed = await instance.Backplane.NotifyAsync(user, "missed");
        static string Encode(string value) => string.Concat(value.Select(c => $"%{(int)c:X2}"));

        await using var client = await WsClient.ConnectAsync(instance.Service, "/api/ws/notifications", token: null,
            query: $"token={Encode(TestTokens.For(user))}&last_id={Encode(first.Id)}");

        Assert.Equal("connected", (await client.NextAsync()).Type);
        var replayed = await client.NextAsync();
        Assert.Equal("notification", replayed.Type);
        Assert.Equal(missed.Id, replayed.Data.GetProperty("id").GetString());
    }

    [Fact]
    public async Task Upgrade_TaskStreamOfSomeoneElse_Closed4003()
    {
        var task = await instance.Backplane.Queue.EnqueueAsync(NewUser("owner"), "demo", null, TestContext.Current.CancellationToken);
        try
        {
            await using var client = await WsClient.ConnectAsync(instance.Service, $"/api/ws/tasks/{task.Id}", TestTokens.For(NewUser("other")));
            Assert.Equal(4003, await client.ClosedAsync());
        }
        finally
        {
            await instance.Backplane.Queue.CancelAsync(task.Id, CancellationToken.None);
        }
    }

    [Fact]
    public async Task Upgrade_ClientOffersDeflateWithParameters_NegotiatedAsTheMiddlewareDoes()
    {
        var user = NewUser("deflate");
        var offer = new WebSocketDeflateOptions { ClientMaxWindowBits = 12, ClientContextTakeover = false, ServerMaxWindowBits = 11 };
        await using var client = await WsClient.ConnectAsync(instance.Service, "/api/ws/notifications", TestTokens.For(user), deflate: offer);

        var answer = WebSocketCompressionTests.Extensions(client);
        Assert.NotNull(answer);
        Assert.Equal(
            ["client_max_window_bits=12", "client_no_context_takeover", "permessage-deflate", "server_max_window_bits=11"],
            answer.Split(';').Select(p => p.Trim()).Order(StringComparer.Ordinal));
        await WebSocketCompressionTests.AssertRoundTripAsync(instance.Backplane, client, user);
    }

    [Fact]
    public async Task Upgrade_OversizedHead_StillUpgraded()
    {
        var user = NewUser("big");
        await using var client = await WsClient.ConnectAsync(instance.Service, "/api/ws/notifications", TestTokens.For(user),
            configure: o => o.SetRequestHeader("X-Padding", new string('a', WebSocketRequestHead.MaxHeadBytes)));
        Assert.Equal("connected", (await client.NextAsync()).Type);
    }

    [Theory]
    [InlineData("GET", null, "13")]
    [InlineData("GET", "short", "13")]
    [InlineData("GET", Key, "12")]
    [InlineData("POST", Key, "13")]
    public async Task Upgrade_InvalidHandshake_AnsweredByHttp400(string method, string? key, string version)
    {
        var headers = new List<string> { "Upgrade: websocket", "Connection: Upgrade", $"Sec-WebSocket-Version: {version}" };
        if (key is not null)
        {
            headers.Add($"Sec-WebSocket-Key: {key}");
        }
        if (method == "POST")
        {
            headers.Add("Content-Length: 0");
        }

        var (status, _, body) = await RawAsync($"{method} /api/ws/notifications?token={TestTokens.For(NewUser("bad"))} HTTP/1.1", headers);

        Assert.Equal(400, status);
        Assert.Contains("needs a WebSocket upgrade request", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upgrade_OtherPathFirstOnTheConnection_AnsweredByHttp()
    {
        var (status, _, body) = await RawAsync("GET /alive HTTP/1.1", []);
        Assert.Equal(200, status);
        Assert.Equal("Healthy", body);
    }

    [Fact]
    public async Task Upgrade_InstanceFull_503WithRetryAfterAndProblemDetails()
    {
        var clients = new List<WsClient>();
        try
        {
            for (var i = 0; i < WebSocketUpgradeFixture.MaxConnections; i++)
            {
                var client = await ConnectWhenRoomAsync(TestTokens.For(NewUser("fill")));
                clients.Add(client);
                Assert.Equal("connected", (await client.NextAsync()).Type);
            }

            var (status, headers, body) = await RawAsync(
                $"GET /api/ws/notifications?token={TestTokens.For(NewUser("late"))} HTTP/1.1",
                ["Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13", $"Sec-WebSocket-Key: {Key}"]);

            Assert.Equal(503, status);
            Assert.Equal("5", headers["retry-after"]);
            Assert.Equal("application/problem+json", headers["content-type"]);
            // Byte for byte what the request pipeline's TypedResults.Problem writes.
            Assert.Equal(
                "{\"type\":\"https://tools.ietf.org/html/rfc9110#section-15.6.4\",\"title\":\"Service Unavailable\",\"status\":503,"
                + $"\"detail\":\"{HttpStreamRequest.InstanceFullDetail}\"}}",
                body);
            if (instance is DirectUpgradeFixture)
            {
                // Answered on the connection: it ends with the answer.
                Assert.Equal("close", headers["connection"]);
            }
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    /// <summary>Connects once the instance has given back a closed stream's slot (bounded wait).</summary>
    private async Task<WsClient> ConnectWhenRoomAsync(string token)
    {
        var deadline = DateTimeOffset.UtcNow + RealtimeHost.Wait;
        while (true)
        {
            try
            {
                return await WsClient.ConnectAsync(instance.Service, "/api/ws/notifications", token);
            }
            catch (WebSocketException) when (DateTimeOffset.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>
    /// One request as the first on a new connection, written byte for byte; its answer's status, headers
    /// (lower-case names) and body (by Content-Length or chunked), read within <see cref="RealtimeHost.Wait"/>.
    /// </summary>
    private async Task<(int Status, Dictionary<string, string> Headers, string Body)> RawAsync(string requestLine, IEnumerable<string> headers)
    {
        using var timeout = new CancellationTokenSource(RealtimeHost.Wait);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, instance.Service.Port), timeout.Token);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        var head = new StringBuilder(requestLine).Append("\r\nHost: 127.0.0.1\r\n");
        foreach (var header in headers)
        {
            head.Append(header).Append("\r\n");
        }
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.Append("\r\n").ToString()), timeout.Token);

        var received = new List<byte>();
        var buffer = new byte[4096];
        int headEnd;
        while ((headEnd = IndexOf(received, "\r\n\r\n"u8.ToArray())) < 0)
        {
            var n = await stream.ReadAsync(buffer, timeout.Token);
            Assert.True(n > 0, "the connection closed before the answer's head");
            received.AddRange(buffer.AsSpan(0, n));
        }
        var lines = Encoding.ASCII.GetString([.. received.Take(headEnd)]).Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var answer = lines.Skip(1).Select(l => l.Split(':', 2)).ToDictionary(p => p[0].Trim().ToLowerInvariant(), p => p[1].Trim());
        var body = received.Skip(headEnd + 4).ToList();
        async Task FillAsync(int length)
        {
            while (body.Count < length)
            {
                var n = await stream.ReadAsync(buffer, timeout.Token);
                Assert.True(n > 0, "the connection closed before the answer's body");
                body.AddRange(buffer.AsSpan(0, n));
            }
        }
        if (answer.TryGetValue("content-length", out var length))
        {
            await FillAsync(int.Parse(length, System.Globalization.CultureInfo.InvariantCulture));
            return (status, answer, Encoding.UTF8.GetString([.. body]));
        }
        // Chunked: read to the last chunk, then join the chunks.
        while (IndexOf(body, "0\r\n\r\n"u8.ToArray()) < 0)
        {
            await FillAsync(body.Count + 1);
        }
        var text = Encoding.UTF8.GetString([.. body]);
        var joined = new StringBuilder();
        for (var at = 0; ;)
        {
            var lineEnd = text.IndexOf("\r\n", at, StringComparison.Ordinal);
            var size = Convert.ToInt32(text[at..lineEnd], 16);
            if (size == 0)
            {
                break;
            }
            joined.Append(text, lineEnd + 2, size);
            at = lineEnd + 2 + size + 2;
        }
        return (status, answer, joined.ToString());
    }

    private static int IndexOf(List<byte> bytes, byte[] pattern) =>
        System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes).IndexOf(pattern);
}

/// <summary>A small instance (three streams in all, so a test's closing stream never fills it) for the upgrade tests.</summary>
public abstract class WebSocketUpgradeFixture : SingleRealtimeFixture
{
    public const int MaxConnections = 3;

    protected abstract bool DirectUpgrade { get; }

    protected override (string Key, string Value)[] Settings =>
    [
        ("Realtime__MaxConnections", MaxConnections.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ("Realtime__DirectUpgrade", DirectUpgrade ? "true" : "false"),
    ];
}

public sealed class DirectUpgradeFixture : WebSocketUpgradeFixture
{
    protected override bool DirectUpgrade => true;
}

public sealed class PipelineUpgradeFixture : WebSocketUpgradeFixture
{
    protected override bool DirectUpgrade => false;
}

/// <summary>The upgrade edges with <c>Realtime:DirectUpgrade</c> on (the default).</summary>
public sealed class DirectWebSocketUpgradeTests(DirectUpgradeFixture instance)
    : WebSocketUpgradeTests<DirectUpgradeFixture>(instance), IClassFixture<DirectUpgradeFixture>;

/// <summary>The same edges with <c>Realtime:DirectUpgrade=false</c>: every upgrade through the request pipeline.</summary>
public sealed class PipelineWebSocketUpgradeTests(PipelineUpgradeFixture instance)
    : WebSocketUpgradeTests<PipelineUpgradeFixture>(instance), IClassFixture<PipelineUpgradeFixture>;
