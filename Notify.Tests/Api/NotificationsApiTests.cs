using System.Net;
using System.Text.Json.Nodes;
using Notify.Core.Messaging;

namespace Notify.Tests.Api;

[Collection(ApiCollection.Name)]
public sealed class NotificationsApiTests(ApiFixture api)
{
    [Fact]
    public async Task List_PagesNewestFirstWithCursorUntilNull()
    {
        var user = ApiFixture.NewUser();
        var created = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            created.Add((string)(await api.CreateAsync(user, title: $"n{i}"))["id"]!);
        }
        var token = api.UserToken(user);

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            using var response = await api.SendAsync(HttpMethod.Get, $"/api/notifications?limit=2{(cursor is null ? "" : "&before=" + cursor)}", token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await ApiFixture.ReadJsonAsync(response);
            seen.AddRange(body["items"]!.AsArray().Select(n => (string)n!["id"]!));
            cursor = (string?)body["next_cursor"];
            pages++;
        }
        while (cursor is not null && pages < 10);

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Reverse(created), seen);
    }

    [Fact]
    public async Task List_FiltersByStatusAndType()
    {
        var user = ApiFixture.NewUser();
        var token = api.UserToken(user);
        var a = await api.CreateAsync(user, type: "alpha");
        var b = await api.CreateAsync(user, type: "beta");
        using (var read = await api.SendAsync(HttpMethod.Post, $"/api/notifications/{b["id"]}/read", token))
        {
            Assert.Equal(HttpStatusCode.NoContent, read.StatusCode);
        }

        Assert.Equal([(string)a["id"]!], await IdsAsync("/api/notifications?status=unread", token));
        Assert.Equal([(string)b["id"]!], await IdsAsync("/api/notifications?status=read", token));
        Assert.Equal([(string)a["id"]!], await IdsAsync("/api/notifications?type=alpha", token));
        Assert.Empty(await IdsAsync("/api/notifications?type=beta&status=unread", token));
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=101", "limit")]
    [InlineData("status=archived", "status")]
    [InlineData("type=bad%20type", "type")]
    [InlineData("before=not-an-id!", "before")]
    public async Task List_InvalidQuery_Returns400NamingParameter(string query, string field)
    {
        using var response = await api.SendAsync(HttpMethod.Get, "/api/notifications?" + query, api.UserToken(ApiFixture.NewUser()));
        await ApiFixture.AssertFieldErrorAsync(response, field);
    }

    [Fact]
    public async Task List_NonNumericLimit_Returns400NamingLimit()
    {
        using var response = await api.SendAsync(HttpMethod.Get, "/api/notifications?limit=abc", api.UserToken(ApiFixture.NewUser()));
        await ApiFixture.AssertFieldErrorAsync(response, "limit");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(100)]
    public async Task List_LimitAtEdges_Returns200(int limit)
    {
        using var response = await api.SendAsync(HttpMethod.Get, $"/api/notifications?limit={limit}", api.UserToken(ApiFixture.NewUser()));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await ApiFixture.ReadJsonAsync(response);
        Assert.Empty(body["items"]!.AsArray());
        Assert.Null(body["next_cursor"]);
    }

    [Fact]
    public async Task UnreadCount_CountsOnlyTheCallersUnread()
    {
        var user = ApiFixture.NewUser();
        var token = api.UserToken(user);
        var first = await api.CreateAsync(user);
        await api.CreateAsync(user);
        await api.CreateAsync(ApiFixture.NewUser());
        (await api.SendAsync(HttpMethod.Post, $"/api/notifications/{first["id"]}/read", token)).Dispose();

        using var response = await api.SendAsync(HttpMethod.Get, "/api/notifications/unread_count", token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, (long)(await ApiFixture.ReadJsonAsync(response))["count"]!);
    }

    [Fact]
    public async Task Read_MarksReadIdempotentlyAndPublishesReadFrame()
    {
        var user = ApiFixture.NewUser();
        var token = api.UserToken(user);
        var id = (string)(await api.CreateAsync(user))["id"]!;
        await using var probe = await BusProbe.StartAsync(api, BusTopic.User(user));

        using var first = await api.SendAsync(HttpMethod.Post, $"/api/notifications/{id}/read", token);
        using var again = await api.SendAsync(HttpMethod.Post, $"/api/notifications/{id}/read", token);

        Assert.Equal(HttpStatusCode.NoContent, first.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);
        var frame = await probe.NextOfTypeAsync("read");
        Assert.Equal(id, (string?)frame["data"]!["id"]);
        using var get = await api.SendAsync(HttpMethod.Get, $"/api/notifications/{id}", token);
        var body = await ApiFixture.ReadJsonAsync(get);
        Assert.Equal("read", (string?)body["status"]);
        Assert.NotNull(body["read_at"]);
    }

    [Fact]
    public async Task ReadAll_ReturnsUpdatedCountAndPublishesFrame()
    {
        var user = ApiFixture.NewUser();
        var token = api.UserToken(user);
        await api.CreateAsync(user);
        await api.CreateAsync(user);
        await using var probe = await BusProbe.StartAsync(api, BusTopic.User(user));

        using var response = await api.SendAsync(HttpMethod.Post, "/api/notifications/read_all", token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, (long)(await ApiFixture.ReadJsonAsync(response))["updated"]!);
        Assert.Equal(2, (long)(await probe.NextOfTypeAsync("read_all"))["data"]!["updated"]!);

        using var again = await api.SendAsync(HttpMethod.Post, "/api/notifications/read_all", token);
        Assert.Equal(0, (long)(await ApiFixture.ReadJsonAsync(again))["updated"]!);
    }

    [Fact]
    public async Task Delete_RemovesAndPublishesFrame_ThenGetIs404()
    {
        var user = ApiFixture.NewUser();
        var token = api.UserToken(user);
        var id = (string)(await api.CreateAsync(user))["id"]!;
        await using var probe = await BusProbe.StartAsync(api, BusTopic.User(user));

        using var delete = await api.SendAsync(HttpMethod.Delete, $"/api/notifications/{id}", token);
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        Assert.Equal(id, (string?)(await probe.NextOfTypeAsync("deleted"))["data"]!["id"]);

        using var get = await api.SendAsync(HttpMethod.Get, $"/api/notifications/{id}", token);
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        using var deleteAgain = await api.SendAsync(HttpMethod.Delete, $"/api/notifications/{id}", token);
        Assert.Equal(HttpStatusCode.NotFound, deleteAgain.StatusCode);
    }

    [Fact]
    public async Task EveryIdRoute_AnotherUsersId_Returns404AndChangesNothing()
    {
        var owner = ApiFixture.NewUser("owner");
        var id = (string)(await api.CreateAsync(owner))["id"]!;
        var intruder = api.UserToken(ApiFixture.NewUser("intruder"));

        foreach (var (method, path) in new[]
        {
            (HttpMethod.Get, $"/api/notifications/{id}"),
            (HttpMethod.Post, $"/api/notifications/{id}/read"),
            (HttpMethod.Delete, $"/api/notifications/{id}"),
        })
        {
            using var response = await api.SendAsync(method, path, intruder);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        Assert.Empty(await IdsAsync("/api/notifications", intruder));
        using (var readAll = await api.SendAsync(HttpMethod.Post, "/api/notifications/read_all", intruder))
        {
            Assert.Equal(0, (long)(await ApiFixture.ReadJsonAsync(readAll))["updated"]!);
        }

        using var get = await api.SendAsync(HttpMethod.Get, $"/api/notifications/{id}", api.UserToken(owner));
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal("unread", (string?)(await ApiFixture.ReadJsonAsync(get))["status"]);
    }

    [Theory]
    [InlineData("01JD3Z0000000000000000000")]
    [InlineData("not%20an%20id")]
    public async Task Get_UnknownOrMalformedId_Returns404(string id)
    {
        using var response = await api.SendAsync(HttpMethod.Get, $"/api/notifications/{id}", api.UserToken(ApiFixture.NewUser()));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Theory]
    [InlineData("GET", "/api/notifications")]
    [InlineData("GET", "/api/notifications/unread_count")]
    [InlineData("POST", "/api/notifications/read_all")]
    [InlineData("GET", "/api/notifications/01JD3Z00000000000000000000")]
    [InlineData("POST", "/api/notifications/01JD3Z00000000000000000000/read")]
    [InlineData("DELETE", "/api/notifications/01JD3Z00000000000000000000")]
    public async Task InboxRoute_WithoutTokenOrWithApiKeyOnly_Returns401(string method, string path)
    {
        using var anonymous = await api.SendAsync(new HttpMethod(method), path);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using var service = await api.SendAsync(new HttpMethod(method), path, headers: new Dictionary<string, string> { ["X-Api-Key"] = ApiFixture.ApiKey });
        Assert.Equal(HttpStatusCode.Unauthorized, service.StatusCode);
    }

    private async Task<List<string>> IdsAsync(string path, string token)
    {
        using var response = await api.SendAsync(HttpMethod.Get, path, token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await ApiFixture.ReadJsonAsync(response))["items"]!.AsArray().Select(n => (string)n!["id"]!).ToList();
    }
}
