using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;

namespace Notify.Tests.Api;

[Collection(ApiCollection.Name)]
public sealed class AuthTests(ApiFixture api)
{
    private const string Path = "/api/notifications/unread_count";

    [Fact]
    public async Task ValidToken_Returns200()
    {
        using var response = await api.SendAsync(HttpMethod.Get, Path, api.UserToken(ApiFixture.NewUser()));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task TokenWithAlteredPayload_Returns401()
    {
        var parts = api.UserToken("alice").Split('.');
        var forgedPayload = Base64Url("{\"sub\":\"mallory\",\"role\":\"admin\",\"exp\":4102444800,\"iss\":\"notify\",\"aud\":\"notify\"}");
        using var response = await api.SendAsync(HttpMethod.Get, Path, $"{parts[0]}.{forgedPayload}.{parts[2]}");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task TokenSignedWithAnotherKey_Returns401()
    {
        var other = ApiFixture.CreateTokens("another-signing-key-that-is-long-enough-0123", TimeProvider.System);
        using var response = await api.SendAsync(HttpMethod.Get, Path, other.Issue("alice", [], TimeSpan.FromHours(1)).Token);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task ExpiredToken_Returns401()
    {
        var past = new FakeTimeProvider(DateTimeOffset.UtcNow.AddHours(-3));
        var tokens = ApiFixture.CreateTokens(Infrastructure.TestEnvironment.SigningKey, past);
        using var response = await api.SendAsync(HttpMethod.Get, Path, tokens.Issue("alice", [], TimeSpan.FromHours(1)).Token);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task TokenForAnotherIssuer_Returns401()
    {
        var other = new Notify.Core.Auth.NotifyTokens(
            Microsoft.Extensions.Options.Options.Create(new Notify.Core.Auth.AuthOptions { SigningKey = Infrastructure.TestEnvironment.SigningKey, Issuer = "someone-else" }),
            TimeProvider.System);
        using var response = await api.SendAsync(HttpMethod.Get, Path, other.Issue("alice", [], TimeSpan.FromHours(1)).Token);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task UnsignedAlgNoneToken_Returns401()
    {
        var header = Base64Url("{\"alg\":\"none\",\"typ\":\"JWT\"}");
        var payload = Base64Url("{\"sub\":\"alice\",\"role\":\"admin\",\"exp\":4102444800,\"iss\":\"notify\",\"aud\":\"notify\"}");
        using var response = await api.SendAsync(HttpMethod.Get, Path, $"{header}.{payload}.");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task GarbageToken_Returns401()
    {
        using var response = await api.SendAsync(HttpMethod.Get, Path, "not-a-jwt");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task DevToken_WhenEnabled_IssuesWorkingToken()
    {
        var user = ApiFixture.NewUser();
        using var response = await api.SendAsync(HttpMethod.Post, "/api/auth/dev-token", body: new { user_id = user, roles = new[] { "admin" }, ttl_seconds = 600 });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await ApiFixture.ReadJsonAsync(response);
        var token = (string)body["token"]!;
        Assert.True(DateTimeOffset.Parse((string)body["expires_at"]!, System.Globalization.CultureInfo.InvariantCulture) > DateTimeOffset.UtcNow.AddMinutes(9));

        // The admin role lets it create; the user id owns the inbox.
        using var create = await api.SendAsync(HttpMethod.Post, "/api/notifications", token, new { user_id = user, type = "t", title = "self" });
        Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        using var count = await api.SendAsync(HttpMethod.Get, Path, token);
        Assert.Equal(1, (long)(await ApiFixture.ReadJsonAsync(count))["count"]!);
    }

    [Theory]
    [InlineData("{\"roles\":[]}", "user_id")]
    [InlineData("{\"user_id\":\"a b\"}", "user_id")]
    [InlineData("{\"user_id\":\"a\",\"ttl_seconds\":0}", "ttl_seconds")]
    [InlineData("{\"user_id\":\"a\",\"ttl_seconds\":86401}", "ttl_seconds")]
    [InlineData("{\"user_id\":\"a\",\"roles\":[\"bad role\"]}", "roles")]
    public async Task DevToken_InvalidRequest_Returns400NamingField(string body, string field)
    {
        using var response = await api.SendAsync(HttpMethod.Post, "/api/auth/dev-token", body: body);
        await ApiFixture.AssertFieldErrorAsync(response, field);
    }

    private static string Base64Url(string json) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
