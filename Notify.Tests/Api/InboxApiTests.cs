using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Notify.Core.Messaging;

namespace Notify.Tests.Api;

/// <summary>Preferences, seen, archive, snooze and bulk actions over real HTTP against a real Api, SQLite and Redis.</summary>
[Collection(ApiCollection.Name)]
public sealed class InboxApiTests(ApiFixture api)
{
    private static object Modes(string type, string mode) => new Dictionary<string, object> { [type] = new Dictionary<string, string> { ["in_app"] = mode } };

    private async Task<JsonObject> PutPreferencesAsync(string token, object body, string path = "/api/me/preferences", HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await api.SendAsync(HttpMethod.Put, path, token, body);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    private async Task<List<string>> IdsAsync(string path, string token)
    {
        using var response = await api.SendAsync(HttpMethod.Get, path, token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await ApiFixture.ReadJsonAsync(response))["items"]!.AsArray().Select(n => (string)n!["id"]!).ToList();
    }

    private async Task<long> CountAsync(string path, string token)
    {
        using var response = await api.SendAsync(HttpMethod.Get, path, token);
        return (long)(await ApiFixture.ReadJsonAsync(response))["count"]!;
    }

    private async Task<HttpStatusCode> PostAsync(string path, string token, object? body = null)
    {
        using var response = await api.SendAsync(HttpMethod.Post, path, token, body);
        return response.StatusCode;
    }

    [Fact]
    public async Task Preferences_NothingStored_ThenPut_VersionedWithETagAndIfMatch()
    {
        var token = api.UserToken(ApiFixture.NewUser());

        using (var empty = await api.SendAsync(HttpMethod.Get, "/api/me/preferences", token))
        {
            var body = await ApiFixture.ReadJsonAsync(empty);
            Assert.Equal(0, (long)body["version"]!);
            Assert.Equal("\"0\"", empty.Headers.ETag?.ToString());
            Assert.Equal("in_app", (string)body["channels"]![0]!);
        }
        var first = await PutPreferencesAsync(token, new { types = Modes("billing", "off"), quiet_hours = new { start = "22:00", end = "07:00", time_zone = "Europe/Berlin" } });
        Assert.Equal(1, (long)first["version"]!);

        using (var stale = await api.SendAsync(HttpMethod.Put, "/api/me/preferences", token, new { types = Modes("billing", "live") },
            new Dictionary<string, string> { ["If-Match"] = "\"0\"" }))
        {
            Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);
            Assert.Equal(1, (long)(await ApiFixture.ReadJsonAsync(stale))["current_version"]!);
        }
        using (var matching = await api.SendAsync(HttpMethod.Put, "/api/me/preferences", token, new { types = Modes("billing", "inbox") },
            new Dictionary<string, string> { ["If-Match"] = "\"1\"" }))
        {
            Assert.Equal(HttpStatusCode.OK, matching.StatusCode);
            Assert.Equal("\"2\"", matching.Headers.ETag?.ToString());
        }
        using var read = await api.SendAsync(HttpMethod.Get, "/api/me/preferences", token);
        var stored = await ApiFixture.ReadJsonAsync(read);
        Assert.Equal(2, (long)stored["version"]!);
        Assert.Equal("inbox", (string)stored["types"]!["billing"]!["in_app"]!);
        Assert.Null(stored["quiet_hours"]);
    }

    [Theory]
    [InlineData("""{"types":{"billing":{"in_app":"loud"}}}""", "types.billing.in_app")]
    [InlineData("""{"types":{"billing":{"email":"off"}}}""", "types.billing.email")]
    [InlineData("""{"types":{"bad type":{"in_app":"off"}}}""", "types.bad type")]
    [InlineData("""{"types":{"billing":"off"}}""", "types.billing")]
    [InlineData("""{"types":[]}""", "types")]
    [InlineData("""{"quiet_hours":{"start":"22:00","end":"07:00","time_zone":"Mars/Olympus"}}""", "quiet_hours.time_zone")]
    [InlineData("""{"quiet_hours":{"start":"24:00","end":"07:00","time_zone":"UTC"}}""", "quiet_hours.start")]
    [InlineData("""{"quiet_hours":{"start":"22:00","end":"7","time_zone":"UTC"}}""", "quiet_hours.end")]
    [InlineData("""{"quiet_hours":{"start":"22:00","end":"22:00","time_zone":"UTC"}}""", "quiet_hours.end")]
    [InlineData("""{"quiet_hours":{"start":"22:00","end":"07:00","time_zone":"UTC","days":1}}""", "quiet_hours.days")]
    [InlineData("""{"colour":"red"}""", "colour")]
    [InlineData("""[]""", "body")]
    public async Task Preferences_Invalid_400NamingTheField(string body, string field)
    {
        using var response = await api.SendAsync(HttpMethod.Put, "/api/me/preferences", api.UserToken(ApiFixture.NewUser()), body);
        await ApiFixture.AssertFieldErrorAsync(response, field);
    }

    [Theory]
    [InlineData(100, HttpStatusCode.OK)]
    [InlineData(101, HttpStatusCode.BadRequest)]
    public async Task Preferences_TypeCount_LimitAtItsEdge(int count, HttpStatusCode expected)
    {
        var types = Enumerable.Range(0, count).ToDictionary(i => $"t{i}", _ => new Dictionary<string, string> { ["in_app"] = "inbox" });
        using var response = await api.SendAsync(HttpMethod.Put, "/api/me/preferences", api.UserToken(ApiFixture.NewUser()), new { types });
        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.BadRequest)
        {
            await ApiFixture.AssertFieldErrorAsync(response, "types");
        }
    }

    [Fact]
    public async Task Create_PreferenceOff_Answers201Suppressed_StoresAndPublishesNothing()
    {
        var user = ApiFixture.NewUser();
        var token = api.UserToken(user);
        await PutPreferencesAsync(token, new { types = Modes("marketing", "off") });
        await using var probe = await BusProbe.StartAsync(api, BusTopic.User(user));

        using (var response = await api.SendAsync(HttpMethod.Post, "/api/notifications", api.AdminToken(), new { user_id = user, type = "marketing", title = "sale" }))
        {
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            var body = await ApiFixture.ReadJsonAsync(response);
            Assert.True((bool)body["suppressed"]!);
            Assert.Null(body["id"]);
        }
        var other = await api.CreateAsync(user, type: "billing");

        // The next frame on the user's topic is the billing one: nothing was published for the suppressed create.
        var frame = await probe.NextAsync();
        Assert.Equal("notification", (string)frame["type"]!);
        Assert.Equal((string)other["id"]!, (string)frame["data"]!["id"]!);
        Assert.Equal([(string)other["id"]!], await IdsAsync("/api/notifications", token));
    }

    [Fact]
    public async Task Create_PreferenceInbox_StoredAndCounted_UnreadCountFrameInsteadOfNotification()
    {
        var user = ApiFixture.NewUser();
        var token = api.UserToken(user);
        await PutPreferencesAsync(token, new { types = Modes("digest", "inbox") });
        await using var probe = await BusProbe.StartAsync(api, BusTopic.User(user));

        var created = await api.CreateAsync(user, type: "digest");

        var frame = await probe.NextAsync();
        Assert.Equal("unread_count", (string)frame["type"]!);
        Assert.Equal(1, (long)frame["data"]!["count"]!);
        Assert.Equal(1, (long)frame["data"]!["unread"]!);
        Assert.Equal(1, (long)frame["data"]!["unseen"]!);
        Assert.Equal([(string)created["id"]!], await IdsAsync("/api/notifications", token));
    }

    [Fact]
    public async Task Create_InsideQuietHours_LiveActsAsInbox()
    {
        var user = ApiFixture.NewUser();
        var now = DateTimeOffset.UtcNow;
        await PutPreferencesAsync(api.UserToken(user), new
        {
            quiet_hours = new
            {
                start = now.AddHours(-1).ToString("HH:mm", CultureInfo.InvariantCulture),
                end = now.AddHours(1).ToString("HH:mm", CultureInfo.InvariantCulture),
                time_zone = "UTC",
            },
        });
        await using var probe = await BusProbe.StartAsync(api, BusTopic.User(user));

        await api.CreateAsync(user, type: "chat");

        Assert.Equal("unread_count", (string)(await probe.NextAsync())["type"]!);
    }

    [Fact]
    public async Task AdminDefaults_ApplyWhereTheUserChoseNothing_AdminOnly()
    {
        var type = "promo-" + Guid.NewGuid().ToString("N")[..8];
        var user = ApiFixture.NewUser();
        var chooser = ApiFixture.NewUser();
        using (var forbidden = await api.SendAsync(HttpMethod.Put, "/api/admin/preferences/defaults", api.UserToken(user), new { types = Modes(type, "off") }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        }
        using (var quiet = await api.SendAsync(HttpMethod.Put, "/api/admin/preferences/defaults", api.AdminToken(),
            new { quiet_hours = new { start = "22:00", end = "07:00", time_zone = "UTC" } }))
        {
            await ApiFixture.AssertFieldErrorAsync(quiet, "quiet_hours");
        }
        using var current = await api.SendAsync(HttpMethod.Get, "/api/admin/preferences/defaults", api.AdminToken());
        var version = (long)(await ApiFixture.ReadJsonAsync(current))["version"]!;
        var defaults = Enumerable.Range(0, 1).ToDictionary(_ => type, _ => new Dictionary<string, string> { ["in_app"] = "off" });
        using (var put = await api.SendAsync(HttpMethod.Put, "/api/admin/preferences/defaults", api.AdminToken(), new { types = defaults },
            new Dictionary<string, string> { ["If-Match"] = version.ToString(CultureInfo.InvariantCulture) }))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }
        await PutPreferencesAsync(api.UserToken(chooser), new { types = Modes(type, "live") });

        using var suppressed = await api.SendAsync(HttpMethod.Post, "/api/notifications", api.AdminToken(), new { user_id = user, type, title = "t" });
        var kept = await api.CreateAsync(chooser, type: type);
        using var mine = await api.SendAsync(HttpMethod.Get, "/api/me/preferences", api.UserToken(user));

        Assert.True((bool)(await ApiFixture.ReadJsonAsync(suppressed))["suppressed"]!);
        Assert.NotNull(kept["id"]);
        Assert.Equal("off", (string)(await ApiFixture.ReadJsonAsync(mine))["defaults"]![type]!["in_app"]!);
    }

    [Fact]
    public async Task Seen_SeparateFromRead_BadgeCountsUnseen_PublishesSeenFrame()
    {
        var user = ApiFixture.NewUser();
        var token = api.UserToken(user);
        var a = (string)(await api.CreateAsync(user))["id"]!;
        var b = (string)(await api.CreateAsync(user))["id"]!;
        await using var probe = await BusProbe.StartAsync(api, BusTopic.User(user));

        Assert.Equal(HttpStatusCode.NoContent, await PostAsync($"/api/notifications/{a}/seen", token));
        Assert.Equal(HttpStatusCode.NotFound, await PostAsync($"/api/notifications/{a}/seen", api.UserToken(ApiFixture.NewUser())));

        var frame = await probe.NextAsync();
        Assert.Equal("seen", (string)frame["type"]!);
        Assert.Equal(a, (string)frame["data"]!["id"]!);
        Assert.Equal(1, await CountAsync("/api/notifications/unseen_count", token));
        Assert.Equal(2, await CountAsync("/api/notifications/unread_count", token));
        Assert.Equal([b], await IdsAsync("/api/notifications?unseen=true", token));
    }

    [Fact]
    public async Task Archive_LeavesListAndBadge_ArchivedFilterFindsIt_Unarchive()
    {
        var user = ApiFixture.NewUser();
        var token = api.UserToken(user);
        var a = (string)(await api.CreateAsync(user))["id"]!;
        var b = (string)(await api.CreateAsync(user))["id"]!;
        await using var probe = await BusProbe.StartAsync(api, BusTopic.User(user));

        Assert.Equal(HttpStatusCode.NoContent, await PostAsync($"/api/notifications/{a}/archive", token));

        Assert.Equal("archived", (string)(await probe.NextAsync())["type"]!);
        Assert.Equal([b], await IdsAsync("/api/notifications", token));
        Assert.Equal([a], await IdsAsync("/api/notifications?archived=true", token));
        Assert.Equal(1, await CountAsync("/api/notifications/unseen_count", token));
        Assert.Equal(HttpStatusCode.NoContent, await PostAsync($"/api/notifications/{a}/unarchive", token));
        Assert.Equal("unarchived", (string)(await probe.NextAsync())["type"]!);
        Assert.Equal([b, a], await IdsAsync("/api/notifications", token));
        Assert.Equal(HttpStatusCode.NotFound, await PostAsync($"/api/notifications/{a}/archive", api.UserToken(ApiFixture.NewUser())));
    }

    [Theory]
    [InlineData("archived=yes", "archived")]
    [InlineData("unseen=1", "unseen")]
    [InlineData("archived=true&snoozed=true", "snoozed")]
    public async Task List_InvalidInboxFilter_400NamingIt(string query, string field)
    {
        using var response = await api.SendAsync(HttpMethod.Get, "/api/notifications?" + query, api.UserToken(ApiFixture.NewUser()));
        await ApiFixture.AssertFieldErrorAsync(response, field);
    }

    [Fact]
    public async Task Snooze_LeavesList_SnoozedFilterFindsIt_Unsnooze()
    {
        var user = ApiFixture.NewUser();
        var token = api.UserToken(user);
        var a = (string)(await api.CreateAsync(user))["id"]!;
        await using var probe = await BusProbe.StartAsync(api, BusTopic.User(user));

        Assert.Equal(HttpStatusCode.NoContent, await PostAsync($"/api/notifications/{a}/snooze", token, new { until = DateTimeOffset.UtcNow.AddHours(1) }));

        var frame = await probe.NextAsync();
        Assert.Equal("snoozed", (string)frame["type"]!);
        Assert.NotNull(frame["data"]!["until"]);
        Assert.Empty(await IdsAsync("/api/notifications", token));
        Assert.Equal([a], await IdsAsync("/api/notifications?snoozed=true", token));
        using (var unsnooze = await api.SendAsync(HttpMethod.Delete, $"/api/notifications/{a}/snooze", token))
        {
            Assert.Equal(HttpStatusCode.NoContent, unsnooze.StatusCode);
        }
        Assert.Equal([a], await IdsAsync("/api/notifications", token));
    }

    [Theory]
    [InlineData(-60.0, HttpStatusCode.BadRequest)]
    [InlineData(60.0, HttpStatusCode.NoContent)]
    [InlineData(30 * 24 * 3600.0 - 600, HttpStatusCode.NoContent)]
    [InlineData(30 * 24 * 3600.0 + 600, HttpStatusCode.BadRequest)]
    public async Task Snooze_Until_BoundedAndInTheFuture(double seconds, HttpStatusCode expected)
    {
        var user = ApiFixture.NewUser();
        var a = (string)(await api.CreateAsync(user))["id"]!;

        using var response = await api.SendAsync(HttpMethod.Post, $"/api/notifications/{a}/snooze", api.UserToken(user), new { until = DateTimeOffset.UtcNow.AddSeconds(seconds) });

        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.BadRequest)
        {
            await ApiFixture.AssertFieldErrorAsync(response, "until");
        }
    }

    [Fact]
    public async Task Snooze_WithoutUntil_400()
    {
        var user = ApiFixture.NewUser();
        var a = (string)(await api.CreateAsync(user))["id"]!;
        using var response = await api.SendAsync(HttpMethod.Post, $"/api/notifications/{a}/snooze", api.UserToken(user), "{}");
        await ApiFixture.AssertFieldErrorAsync(response, "until");
    }

    [Fact]
    public async Task Bulk_ArchiveByType_ThenDelete_PublishesBulkFrame()
    {
        var user = ApiFixture.NewUser();
        var token = api.UserToken(user);
        var billing = new[] { await api.CreateAsync(user, type: "billing"), await api.CreateAsync(user, type: "billing") };
        var chat = (string)(await api.CreateAsync(user, type: "chat"))["id"]!;
        await using var probe = await BusProbe.StartAsync(api, BusTopic.User(user));

        using (var archive = await api.SendAsync(HttpMethod.Post, "/api/notifications/bulk", token, new { action = "archive", type = "billing" }))
        {
            var body = await ApiFixture.ReadJsonAsync(archive);
            Assert.Equal(2, (long)body["updated"]!);
            Assert.False((bool)body["more"]!);
        }
        var frame = await probe.NextAsync();
        Assert.Equal("bulk", (string)frame["type"]!);
        Assert.Equal("archive", (string)frame["data"]!["action"]!);
        Assert.Equal([chat], await IdsAsync("/api/notifications", token));

        using (var delete = await api.SendAsync(HttpMethod.Post, "/api/notifications/bulk", token, new { action = "delete", before = DateTimeOffset.UtcNow.AddMinutes(1), status = "unread" }))
        {
            Assert.Equal(3, (long)(await ApiFixture.ReadJsonAsync(delete))["updated"]!);
        }
        Assert.Empty(await IdsAsync("/api/notifications?archived=true", token));
        Assert.Equal(2, billing.Length);
    }

    [Theory]
    [InlineData("""{"action":"explode"}""", "action")]
    [InlineData("""{}""", "action")]
    [InlineData("""{"action":"read","status":"maybe"}""", "status")]
    [InlineData("""{"action":"read","type":"bad type"}""", "type")]
    public async Task Bulk_Invalid_400NamingTheField(string body, string field)
    {
        using var response = await api.SendAsync(HttpMethod.Post, "/api/notifications/bulk", api.UserToken(ApiFixture.NewUser()), body);
        await ApiFixture.AssertFieldErrorAsync(response, field);
    }
}
