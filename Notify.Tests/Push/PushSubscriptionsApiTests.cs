using System.Net;
using System.Security.Cryptography;
using Notify.Core.Push;
using Notify.Tests.Api;

namespace Notify.Tests.Push;

/// <summary>An Api process with VAPID keys and a per-user limit of <see cref="Max"/> push subscriptions.</summary>
public sealed class PushApiFixture : ApiFixture
{
    public const int Max = 2;

    public static readonly (string Public, string Private) Vapid = NewPair();

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraEnvironment =>
    [
        new("Push__VapidPublicKey", Vapid.Public),
        new("Push__VapidPrivateKey", Vapid.Private),
        new("Push__Subject", "mailto:ops@notify.test"),
        new("Push__MaxSubscriptionsPerUser", Max.ToString(System.Globalization.CultureInfo.InvariantCulture)),
    ];

    private static (string, string) NewPair()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var p = key.ExportParameters(true);
        return (Base64Url.Encode([4, .. p.Q.X!, .. p.Q.Y!]), Base64Url.Encode(p.D));
    }
}

/// <summary><c>/api/me/push-subscriptions</c> over HTTP: idempotent by endpoint, bounded per user, validated, private to the user.</summary>
public sealed class PushSubscriptionsApiTests(PushApiFixture api) : IClassFixture<PushApiFixture>
{
    private const string Path = "/api/me/push-subscriptions";
    private static readonly string BrowserKey = PushApiFixture.Vapid.Public;
    private static readonly string Auth = Base64Url.Encode(new byte[16]);

    private static object Body(string endpoint, string? p256dh = null, string? auth = null) =>
        new { endpoint, keys = new { p256dh = p256dh ?? BrowserKey, auth = auth ?? Auth } };

    private static string Endpoint() => "https://push.example.test/send/" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task Post_NewThenSameEndpoint_CreatedThenOkOneListed()
    {
        var token = api.UserToken(ApiFixture.NewUser("push"));
        var endpoint = Endpoint();

        using var first = await api.SendAsync(HttpMethod.Post, Path, token, Body(endpoint));
        using var again = await api.SendAsync(HttpMethod.Post, Path, token, Body(endpoint, auth: Base64Url.Encode(Enumerable.Repeat((byte)7, 16).ToArray())));

        Assert.True(first.StatusCode == HttpStatusCode.Created, api.Api.RecentLog);
        var created = await ApiFixture.ReadJsonAsync(first);
        Assert.Equal(PushSubscription.IdOf(endpoint), (string?)created["id"]);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        using var list = await api.SendAsync(HttpMethod.Get, Path, token);
        var items = (await ApiFixture.ReadJsonAsync(list))["items"]!.AsArray();
        var only = Assert.Single(items);
        Assert.Equal(endpoint, (string?)only!["endpoint"]);
        Assert.Equal(Base64Url.Encode(Enumerable.Repeat((byte)7, 16).ToArray()), (string?)only["keys"]!["auth"]);
        Assert.Null(only["user_id"]);
    }

    [Fact]
    public async Task Post_BeyondTheLimit_409AndKnownEndpointStillAccepted()
    {
        var token = api.UserToken(ApiFixture.NewUser("push-max"));
        var endpoints = Enumerable.Range(0, PushApiFixture.Max).Select(_ => Endpoint()).ToArray();
        foreach (var endpoint in endpoints)
        {
            using var ok = await api.SendAsync(HttpMethod.Post, Path, token, Body(endpoint));
            Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        }

        using var over = await api.SendAsync(HttpMethod.Post, Path, token, Body(Endpoint()));
        using var known = await api.SendAsync(HttpMethod.Post, Path, token, Body(endpoints[0]));

        Assert.Equal(HttpStatusCode.Conflict, over.StatusCode);
        Assert.Equal("application/problem+json", over.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, known.StatusCode);
    }

    [Fact]
    public async Task Delete_Own_204ThenGoneOthers404()
    {
        var owner = api.UserToken(ApiFixture.NewUser("push-del"));
        var stranger = api.UserToken(ApiFixture.NewUser("push-other"));
        var endpoint = Endpoint();
        using (var created = await api.SendAsync(HttpMethod.Post, Path, owner, Body(endpoint)))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        var id = PushSubscription.IdOf(endpoint);

        using var byStranger = await api.SendAsync(HttpMethod.Delete, $"{Path}/{id}", stranger);
        using var strangersList = await api.SendAsync(HttpMethod.Get, Path, stranger);
        using var byOwner = await api.SendAsync(HttpMethod.Delete, $"{Path}/{id}", owner);
        using var twice = await api.SendAsync(HttpMethod.Delete, $"{Path}/{id}", owner);

        Assert.Equal(HttpStatusCode.NotFound, byStranger.StatusCode);
        Assert.Empty((await ApiFixture.ReadJsonAsync(strangersList))["items"]!.AsArray());
        Assert.Equal(HttpStatusCode.NoContent, byOwner.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, twice.StatusCode);
    }

    public static TheoryData<string, string> BadBodies() => new()
    {
        { "{}", "endpoint" },
        { """{"endpoint":"http://push.example.test/x","keys":{"p256dh":"K","auth":"A"}}""", "endpoint" },
        { """{"endpoint":"not a url","keys":{}}""", "endpoint" },
        { """{"endpoint":"https://user:pw@push.example.test/x","keys":{}}""", "endpoint" },
        { $$$"""{"endpoint":"https://push.example.test/{{{new string('x', PushSubscriptionsApi_MaxEndpoint - 25)}}}","keys":{}}""", "endpoint" },
        { """{"endpoint":"https://push.example.test/x"}""", "keys.p256dh" },
        { """{"endpoint":"https://push.example.test/x","keys":{"p256dh":"AAAA","auth":"AAAAAAAAAAAAAAAAAAAAAA"}}""", "keys.p256dh" },
        // 65 bytes starting 0x04, but not a point on P-256.
        { $$$"""{"endpoint":"https://push.example.test/x","keys":{"p256dh":"{{{Base64Url.Encode([4, .. new byte[64]])}}}","auth":"AAAAAAAAAAAAAAAAAAAAAA"}}""", "keys.p256dh" },
        { $$$"""{"endpoint":"https://push.example.test/x","keys":{"p256dh":"{{{PushApiFixture.Vapid.Public}}}","auth":"AAAA"}}""", "keys.auth" },
        { $$$"""{"endpoint":"https://push.example.test/x","keys":{"p256dh":"{{{PushApiFixture.Vapid.Public}}}"}}""", "keys.auth" },
    };

    private const int PushSubscriptionsApi_MaxEndpoint = 2048;

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Post_Invalid_400NamingTheField(string body, string field)
    {
        using var response = await api.SendAsync(HttpMethod.Post, Path, api.UserToken(ApiFixture.NewUser("push-bad")), body);

        await ApiFixture.AssertFieldErrorAsync(response, field);
    }

    [Fact]
    public async Task Post_EndpointOfExactlyMaxLength_Accepted()
    {
        var prefix = "https://push.example.test/";
        var endpoint = prefix + new string('e', PushSubscriptionsApi_MaxEndpoint - prefix.Length);

        using var response = await api.SendAsync(HttpMethod.Post, Path, api.UserToken(ApiFixture.NewUser("push-len")), Body(endpoint));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task Anonymous_401()
    {
        using var response = await api.SendAsync(HttpMethod.Get, Path);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Config_ExposesThePublicKeyOnly()
    {
        using var response = await api.SendAsync(HttpMethod.Get, "/api/config");
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(PushApiFixture.Vapid.Public, (string?)(await ApiFixture.ReadJsonAsync(response))["vapid_public_key"]);
        Assert.DoesNotContain(PushApiFixture.Vapid.Private, text, StringComparison.Ordinal);
    }
}
