using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Notify.Tests.Infrastructure;

namespace Notify.Tests.Realtime;

/// <summary>
/// One instance with an HTTPS listener beside the plain one, the direct upgrade on (the default): the
/// connection middleware sits outside TLS, sees only a TLS handshake and passes it on, so a WebSocket over
/// TLS is upgraded by the request pipeline, while the plain listener's are upgraded directly.
/// </summary>
public sealed class HttpsRealtimeFixture : IAsyncLifetime
{
    private const string Password = "test-only";
    private readonly RedisServer _redis = new();
    private readonly string _sqlitePath = RealtimeHost.NewSqlitePath();
    private readonly string _certificatePath = Path.Combine(Path.GetTempPath(), $"notify-rt-{Guid.NewGuid():N}.pfx");

    internal ServiceProcess Service { get; private set; } = null!;
    internal int HttpsPort { get; private set; }

    public async ValueTask InitializeAsync()
    {
        await _redis.InitializeAsync();
        using (var key = RSA.Create(2048))
        {
            var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(System.Net.IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            await File.WriteAllBytesAsync(_certificatePath, certificate.Export(X509ContentType.Pfx, Password));
        }
        // Both ports are chosen here; one taken before the service bound it means another pair (at most five times).
        for (var attempt = 1; ; attempt++)
        {
            var httpPort = RedisServer.FreePort();
            HttpsPort = RedisServer.FreePort();
            var environment = new Dictionary<string, string?>(TestEnvironment.For(_redis, _sqlitePath))
            {
                ["Auth__ClockSkew"] = "00:00:00",
                // HTTPS first: Kestrel binds in this order, so /alive answers on the plain port only once both are bound.
                ["ASPNETCORE_URLS"] = $"https://127.0.0.1:{HttpsPort};http://127.0.0.1:{httpPort}",
                ["Kestrel__Certificates__Default__Path"] = _certificatePath,
                ["Kestrel__Certificates__Default__Password"] = Password,
            };
            try
            {
                Service = await ServiceProcess.StartAsync("Notify.Realtime", environment, port: httpPort);
                return;
            }
            catch (InvalidOperationException ex) when (attempt < 5 && ex.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Service is not null)
        {
            await Service.DisposeAsync();
        }
        await _redis.DisposeAsync();
        TestEnvironment.DeleteSqliteFiles(_sqlitePath);
        File.Delete(_certificatePath);
    }
}

public sealed class HttpsWebSocketTests(HttpsRealtimeFixture instance) : IClassFixture<HttpsRealtimeFixture>
{
    [Fact]
    public async Task Upgrade_OverTls_UpgradedByThePipeline()
    {
        var user = RealtimeClusterFixture.NewUser("tls");
        using var socket = new ClientWebSocket();
        // The fixture's own self-signed certificate.
        socket.Options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        using var timeout = new CancellationTokenSource(RealtimeHost.Wait);
        await socket.ConnectAsync(new Uri($"wss://127.0.0.1:{instance.HttpsPort}/api/ws/notifications?token={TestTokens.For(user)}"), timeout.Token);

        var buffer = new byte[16 * 1024];
        var first = await socket.ReceiveAsync(buffer, timeout.Token);
        var connected = JsonDocument.Parse(Encoding.UTF8.GetString(buffer, 0, first.Count)).RootElement;
        Assert.Equal("connected", connected.GetProperty("type").GetString());
        Assert.Equal(user, connected.GetProperty("data").GetProperty("user_id").GetString());
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
    }

    [Fact]
    public async Task Upgrade_PlainListenerBesideTls_StillUpgraded()
    {
        var user = RealtimeClusterFixture.NewUser("plain");
        await using var client = await WsClient.ConnectAsync(instance.Service, "/api/ws/notifications", TestTokens.For(user));
        var connected = await client.NextAsync();
        Assert.Equal("connected", connected.Type);
        Assert.Equal(user, connected.Data.GetProperty("user_id").GetString());
    }
}
