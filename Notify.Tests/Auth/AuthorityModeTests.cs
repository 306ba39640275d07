using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.IdentityModel.Tokens;
using Notify.Tests.Infrastructure;
using Notify.Tests.Realtime;

namespace Notify.Tests.Auth;

/// <summary>
/// The Api, Realtime and Worker with <c>Auth:Authority</c> set to a local OIDC provider (discovery + JWKS on
/// loopback) and no signing key: REST, WebSocket, SSE and the Hangfire dashboard all accept the provider's
/// RS256 and ES256 tokens and refuse a wrong algorithm, an expired token and a bad signature; a key
/// rotated into the JWKS is accepted, a key rotated out is refused; no token reaches a log.
/// </summary>
public sealed class AuthorityModeTests(AuthorityModeFixture system) : IClassFixture<AuthorityModeFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Rs256AndEs256Tokens_AcceptedByRestWebSocketSseAndDashboard()
    {
        foreach (var (key, alg) in new (SecurityKey, string)[] { (system.Rsa, SecurityAlgorithms.RsaSha256), (system.Ec, SecurityAlgorithms.EcdsaSha256) })
        {
            var user = "oidc-" + Guid.NewGuid().ToString("N")[..8];
            var token = system.Provider.Token(key, alg, user);

            Assert.Equal(HttpStatusCode.OK, await system.RestStatusAsync(token));
            await using (var socket = await WsClient.ConnectAsync(system.Realtime, "/api/ws/notifications", token))
            {
                var connected = await socket.NextAsync();
                Assert.Equal("connected", connected.Type);
                Assert.Equal(user, connected.Data.GetProperty("user_id").GetString());
            }
            await using (var events = await SseClient.ConnectAsync(system.Realtime, "/api/sse/notifications", token))
            {
                Assert.Equal(HttpStatusCode.OK, events.Response.StatusCode);
                Assert.Equal("connected", (await events.NextAsync())!.Event);
            }
            var admin = system.Provider.Token(key, alg, "root-" + user, admin: true);
            Assert.Equal(HttpStatusCode.OK, await system.DashboardStatusAsync(admin));
            Assert.Equal(HttpStatusCode.Forbidden, await system.DashboardStatusAsync(token));
        }
    }

    [Fact]
    public async Task WrongAlgorithmExpiredOrBadSignature_RefusedEverywhere()
    {
        var user = "bad-" + Guid.NewGuid().ToString("N")[..8];
        var impostor = OidcProvider.NewRsaKey(system.Rsa.KeyId!);
        var refused = new Dictionary<string, string>
        {
            // The published RSA key, but PS256: not an accepted algorithm.
            ["wrong alg"] = system.Provider.Token(system.Rsa, SecurityAlgorithms.RsaSsaPssSha256, user),
            // HS256 with the published key's id and a shared secret: never accepted in authority mode.
            ["hs256"] = system.Provider.Token(new SymmetricSecurityKey(new byte[32]) { KeyId = system.Rsa.KeyId }, SecurityAlgorithms.HmacSha256, user),
            ["expired"] = system.Provider.Token(system.Rsa, SecurityAlgorithms.RsaSha256, user, lifetime: TimeSpan.FromMinutes(5), now: DateTimeOffset.UtcNow.AddHours(-1)),
            // The published key id, signed by another key.
            ["bad signature"] = system.Provider.Token(impostor, SecurityAlgorithms.RsaSha256, user),
            ["wrong issuer"] = system.Provider.Token(system.Rsa, SecurityAlgorithms.RsaSha256, user, issuer: "https://elsewhere.example"),
        };

        foreach (var (what, token) in refused)
        {
            Assert.True(HttpStatusCode.Unauthorized == await system.RestStatusAsync(token), what);
            await using (var socket = await WsClient.ConnectAsync(system.Realtime, "/api/ws/notifications", token))
            {
                Assert.True(await socket.ClosedAsync() == 4001, what);
            }
            await using (var events = await SseClient.ConnectAsync(system.Realtime, "/api/sse/notifications", token))
            {
                Assert.True(events.Response.StatusCode == HttpStatusCode.Unauthorized, what);
            }
            Assert.True(HttpStatusCode.Unauthorized == await system.DashboardStatusAsync(token), what);
        }
    }

    [Fact]
    public async Task KeyRotation_NewKeyAcceptedOnceInTheJwks_RetiredKeyRefused()
    {
        var user = "rot-" + Guid.NewGuid().ToString("N")[..8];
        var retiring = system.Rotating;
        Assert.Equal(HttpStatusCode.OK, await system.RestStatusAsync(system.Provider.Token(retiring, SecurityAlgorithms.RsaSha256, user)));

        var next = OidcProvider.NewRsaKey("rotated-" + Guid.NewGuid().ToString("N")[..6]);
        var nextToken = system.Provider.Token(next, SecurityAlgorithms.RsaSha256, user);
        var nextAdmin = system.Provider.Token(next, SecurityAlgorithms.RsaSha256, "root-" + user, admin: true);
        Assert.Equal(HttpStatusCode.Unauthorized, await system.RestStatusAsync(nextToken));

        system.Provider.Publish(system.Rsa, system.Ec, next);
        system.Rotating = next;

        // Each service re-reads the JWKS when a token names an unknown key (at most once per
        // Auth:KeyRefreshInterval, 1 s here), so the new key is accepted within that.
        await Eventually(async () => await system.RestStatusAsync(nextToken) == HttpStatusCode.OK, "REST accepts the rotated-in key");
        await Eventually(async () =>
        {
            await using var socket = await WsClient.ConnectAsync(system.Realtime, "/api/ws/notifications", nextToken);
            return (await socket.NextAsync()).Type == "connected";
        }, "WebSocket accepts the rotated-in key");
        await Eventually(async () => await system.DashboardStatusAsync(nextAdmin) == HttpStatusCode.OK, "the dashboard accepts the rotated-in key");

        var retired = system.Provider.Token(retiring, SecurityAlgorithms.RsaSha256, user);
        Assert.Equal(HttpStatusCode.Unauthorized, await system.RestStatusAsync(retired));
        await using var refused = await WsClient.ConnectAsync(system.Realtime, "/api/ws/notifications", retired);
        Assert.Equal(4001, await refused.ClosedAsync());
    }

    [Fact]
    public async Task Tokens_NeverWrittenToAnyServiceLog()
    {
        var token = system.Provider.Token(system.Rsa, SecurityAlgorithms.RsaSha256, "quiet-" + Guid.NewGuid().ToString("N")[..8]);
        var bad = system.Provider.Token(OidcProvider.NewRsaKey(system.Rsa.KeyId!), SecurityAlgorithms.RsaSha256, "quiet");
        foreach (var t in new[] { token, bad })
        {
            await system.RestStatusAsync(t);
            await system.DashboardStatusAsync(t);
            await using var socket = await WsClient.ConnectAsync(system.Realtime, "/api/ws/notifications", t);
            await socket.NextAsync();
        }

        foreach (var service in new[] { system.Api, system.Realtime, system.Worker })
        {
            foreach (var t in new[] { token, bad })
            {
                // The signature alone identifies the token; neither it nor the whole token may appear.
                Assert.DoesNotContain(t.Split('.')[2], service.RecentLog, StringComparison.Ordinal);
            }
        }
    }

    private static async Task Eventually(Func<Task<bool>> condition, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(watch.Elapsed < Wait, "timed out waiting until " + what);
            await Task.Delay(200);
        }
    }
}

/// <summary>A local OIDC provider and the three services in authority mode on one Redis and SQLite file.</summary>
public sealed class AuthorityModeFixture : IAsyncLifetime
{
    private readonly RedisServer _redis = new();
    private readonly string _sqlitePath = RealtimeHost.NewSqlitePath();
    private readonly HttpClient _http = new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { Timeout = TimeSpan.FromSeconds(30) };

    internal OidcProvider Provider { get; private set; } = null!;
    internal RsaSecurityKey Rsa { get; } = OidcProvider.NewRsaKey("rsa-1");
    internal ECDsaSecurityKey Ec { get; } = OidcProvider.NewEcKey("ec-1");
    /// <summary>The key the rotation test retires and replaces; no other test uses it.</summary>
    internal RsaSecurityKey Rotating { get; set; } = OidcProvider.NewRsaKey("rsa-rotating");
    internal ServiceProcess Api { get; private set; } = null!;
    internal ServiceProcess Realtime { get; private set; } = null!;
    internal ServiceProcess Worker { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Provider = await OidcProvider.StartAsync();
        Provider.Publish(Rsa, Ec, Rotating);
        await _redis.InitializeAsync();
        var environment = new Dictionary<string, string?>(TestEnvironment.For(_redis, _sqlitePath))
        {
            ["Auth__SigningKey"] = "",
            ["Auth__EnableDevTokens"] = "false",
            ["Auth__Authority"] = Provider.Authority,
            ["Auth__KeyRefreshInterval"] = "00:00:01",
            ["Auth__ClockSkew"] = "00:00:00",
            ["Worker__HangfirePrefix"] = $"thf:{Guid.NewGuid():N}:",
        };
        var api = ServiceProcess.StartAsync("Notify.Api", environment);
        var realtime = ServiceProcess.StartAsync("Notify.Realtime", environment);
        var worker = ServiceProcess.StartAsync("Notify.Worker", environment);
        Api = await api;
        Realtime = await realtime;
        Worker = await worker;
    }

    /// <summary>The status of <c>GET /api/notifications/unread_count</c> on the Api with <paramref name="token"/>.</summary>
    internal async Task<HttpStatusCode> RestStatusAsync(string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(Api.BaseAddress, "/api/notifications/unread_count"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await _http.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>The status of the Worker's Hangfire dashboard with <paramref name="token"/> as bearer.</summary>
    internal async Task<HttpStatusCode> DashboardStatusAsync(string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(Worker.BaseAddress, "/hangfire"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await _http.SendAsync(request);
        return response.StatusCode;
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        foreach (var service in new[] { Api, Realtime, Worker })
        {
            if (service is not null)
            {
                await service.DisposeAsync();
            }
        }
        if (Provider is not null)
        {
            await Provider.DisposeAsync();
        }
        await _redis.DisposeAsync();
        TestEnvironment.DeleteSqliteFiles(_sqlitePath);
    }
}
