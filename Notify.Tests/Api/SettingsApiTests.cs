using System.Net;
using System.Text.Json.Nodes;

namespace Notify.Tests.Api;

/// <summary>Runtime settings over HTTP. One fixture per class: these tests change the Api's shared settings, so they run in sequence on their own process.</summary>
public sealed class SettingsApiTests(ApiFixture api) : IClassFixture<ApiFixture>
{
    private const string Path = "/api/admin/settings";
    private const string Heartbeat = "Realtime:HeartbeatIntervalSeconds";

    [Fact]
    public async Task Get_AsAdmin_ListsEverySettingWithBounds()
    {
        using var response = await api.SendAsync(HttpMethod.Get, Path, api.AdminToken());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await ApiFixture.ReadJsonAsync(response);
        var heartbeat = Setting(body, Heartbeat);
        Assert.Equal(5, (long)heartbeat["min"]!);
        Assert.Equal(600, (long)heartbeat["max"]!);
        Assert.NotNull(heartbeat["source"]);
        Assert.NotNull(body["version"]);
    }

    [Fact]
    public async Task Put_ValidValue_StoresAndGetReturnsItFromDatabase()
    {
        var admin = api.AdminToken();
        using var put = await api.SendAsync(HttpMethod.Put, Path, admin, new JsonObject { ["Sse:TaskMaxIdleSeconds"] = 120 }.ToJsonString());
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(120, (long)Setting(await ApiFixture.ReadJsonAsync(put), "Sse:TaskMaxIdleSeconds")["value"]!);

        using var get = await api.SendAsync(HttpMethod.Get, Path, admin);
        var stored = Setting(await ApiFixture.ReadJsonAsync(get), "Sse:TaskMaxIdleSeconds");
        Assert.Equal(120, (long)stored["value"]!);
        Assert.Equal("database", (string?)stored["source"]);

        using var reset = await api.SendAsync(HttpMethod.Put, Path, admin, "{\"Sse:TaskMaxIdleSeconds\":null}");
        Assert.NotEqual("database", (string?)Setting(await ApiFixture.ReadJsonAsync(reset), "Sse:TaskMaxIdleSeconds")["source"]);
    }

    [Theory]
    [InlineData("{\"No:SuchKey\":1}", "No:SuchKey")]
    [InlineData("{\"Realtime:HeartbeatIntervalSeconds\":4}", Heartbeat)]
    [InlineData("{\"Realtime:HeartbeatIntervalSeconds\":601}", Heartbeat)]
    [InlineData("{\"Realtime:HeartbeatIntervalSeconds\":\"20\"}", Heartbeat)]
    public async Task Put_UnknownKeyOrOutOfRange_Returns400NamingKey(string body, string key)
    {
        using var response = await api.SendAsync(HttpMethod.Put, Path, api.AdminToken(), body);
        await ApiFixture.AssertFieldErrorAsync(response, key);
    }

    [Fact]
    public async Task Put_AtBounds_Accepted()
    {
        var admin = api.AdminToken();
        foreach (var value in new[] { 5, 600, 30 })
        {
            using var response = await api.SendAsync(HttpMethod.Put, Path, admin, new JsonObject { [Heartbeat] = value }.ToJsonString());
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task Put_StaleIfMatch_Returns412()
    {
        var admin = api.AdminToken();
        using var get = await api.SendAsync(HttpMethod.Get, Path, admin);
        var version = (long)(await ApiFixture.ReadJsonAsync(get))["version"]!;
        using var first = await api.SendAsync(HttpMethod.Put, Path, admin, "{\"Sse:BatchMaxIdleSeconds\":700}",
            new Dictionary<string, string> { ["If-Match"] = $"\"{version}\"" });
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        using var stale = await api.SendAsync(HttpMethod.Put, Path, admin, "{\"Sse:BatchMaxIdleSeconds\":800}",
            new Dictionary<string, string> { ["If-Match"] = $"\"{version}\"" });
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);
        Assert.Equal(version + 1, (long)(await ApiFixture.ReadJsonAsync(stale))["current_version"]!);
    }

    [Fact]
    public async Task Settings_AsPlainUserOrApiKey_Returns403AndAnonymous401()
    {
        using var user = await api.SendAsync(HttpMethod.Get, Path, api.UserToken(ApiFixture.NewUser()));
        Assert.Equal(HttpStatusCode.Forbidden, user.StatusCode);
        using var userPut = await api.SendAsync(HttpMethod.Put, Path, api.UserToken(ApiFixture.NewUser()), "{}");
        Assert.Equal(HttpStatusCode.Forbidden, userPut.StatusCode);
        using var service = await api.SendAsync(HttpMethod.Get, Path, headers: new Dictionary<string, string> { ["X-Api-Key"] = ApiFixture.ApiKey });
        Assert.Equal(HttpStatusCode.Forbidden, service.StatusCode);
        using var anonymous = await api.SendAsync(HttpMethod.Get, Path);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    private static JsonObject Setting(JsonObject view, string key) =>
        view["settings"]!.AsArray().Single(s => (string?)s!["key"] == key)!.AsObject();
}
