using System.Net;
using System.Text.Json.Nodes;

namespace Notify.Tests.Api;

[Collection(ApiCollection.Name)]
public sealed class OpenApiTests(ApiFixture api)
{
    /// <summary>Every route the Api maps besides health checks and the document itself.</summary>
    public static readonly (string Method, string Path)[] Routes =
    [
        ("post", "/api/auth/dev-token"),
        ("get", "/api/notifications"),
        ("post", "/api/notifications"),
        ("post", "/api/notifications/send"),
        ("post", "/api/notifications/broadcast"),
        ("get", "/api/notifications/unread_count"),
        ("post", "/api/notifications/read_all"),
        ("get", "/api/notifications/{id}"),
        ("delete", "/api/notifications/{id}"),
        ("post", "/api/notifications/{id}/read"),
        ("get", "/api/admin/settings"),
        ("put", "/api/admin/settings"),
    ];

    [Fact]
    public async Task Document_ListsEveryRouteWithSecurityAndExamples()
    {
        using var response = await api.SendAsync(HttpMethod.Get, "/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var doc = await ApiFixture.ReadJsonAsync(response);
        var paths = doc["paths"]!.AsObject();

        var documented = paths.SelectMany(p => p.Value!.AsObject().Select(op => (op.Key, p.Key.TrimEnd('/')))).ToHashSet();
        foreach (var route in Routes)
        {
            Assert.Contains(route, documented);
        }
        // And nothing is documented that is not really served: every documented route answers something other than 404/405.
        foreach (var (method, path) in documented.Where(r => r.Item2.StartsWith("/api/", StringComparison.Ordinal)))
        {
            using var probe = await api.SendAsync(new HttpMethod(method.ToUpperInvariant()), path.Replace("{id}", "01JD3Z00000000000000000000", StringComparison.Ordinal), body: method is "post" or "put" ? "{}" : null);
            Assert.True(probe.StatusCode is not (HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed), $"{method} {path}: {(int)probe.StatusCode}");
        }

        var schemes = doc["components"]!["securitySchemes"]!.AsObject();
        Assert.True(schemes.ContainsKey("Bearer"));
        Assert.Equal("X-Api-Key", (string?)schemes["ApiKey"]!["name"]);

        var create = Operation(paths, "/api/notifications", "post");
        Assert.Equal(2, create["security"]!.AsArray().Count);
        Assert.Equal("alice", (string?)create["requestBody"]!["content"]!["application/json"]!["example"]!["user_id"]);
        Assert.NotNull(create["responses"]!["201"]);
        Assert.NotNull(create["responses"]!["400"]);
        Assert.NotNull(create["responses"]!["429"]);
        Assert.Single(Operation(paths, "/api/notifications", "get")["security"]!.AsArray());
        Assert.NotNull(Operation(paths, "/api/notifications/{id}", "delete")["responses"]!["404"]);
        Assert.Null(Operation(paths, "/api/auth/dev-token", "post")["security"]);

        var schemas = doc["components"]!["schemas"]!.AsObject();
        Assert.True(schemas["Notification"]!["properties"]!.AsObject().ContainsKey("user_id"));
        Assert.Equal("alice", (string?)schemas["Notification"]!["examples"]![0]!["user_id"]);
    }

    [Fact]
    public async Task Root_ServesStaticIndexPage()
    {
        using var response = await api.SendAsync(HttpMethod.Get, "/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Cors_ConfiguredOrigin_AllowedAndOtherOriginNot()
    {
        foreach (var (origin, allowed) in new[] { (ApiFixture.WebOrigin, true), ("http://evil.example.test", false) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Options, "/api/notifications");
            request.Headers.Add("Origin", origin);
            request.Headers.Add("Access-Control-Request-Method", "GET");
            request.Headers.Add("Access-Control-Request-Headers", "authorization");
            using var response = await api.Http.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.Equal(allowed, response.Headers.TryGetValues("Access-Control-Allow-Origin", out var values) && values.Single() == origin);
        }
    }

    private static JsonObject Operation(JsonObject paths, string path, string method) =>
        (paths[path] ?? paths[path + "/"])![method]!.AsObject();
}
