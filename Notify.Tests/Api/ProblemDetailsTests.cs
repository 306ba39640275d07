using System.Net;
using System.Text.Json.Nodes;

namespace Notify.Tests.Api;

/// <summary>Every error of the Api has one shape (PROTOCOL.md: snake_case), whichever part of the pipeline writes it.</summary>
[Collection(ApiCollection.Name)]
public sealed class ProblemDetailsTests(ApiFixture api)
{
    [Fact]
    public async Task Problems_FromEveryPartOfThePipeline_CarryTraceIdInSnakeCase()
    {
        var user = api.UserToken(ApiFixture.NewUser());
        var cases = new (string What, Func<Task<HttpResponseMessage>> Send, HttpStatusCode Status)[]
        {
            ("unknown route", () => api.SendAsync(HttpMethod.Get, "/api/nothing-here", user), HttpStatusCode.NotFound),
            ("missing id", () => api.SendAsync(HttpMethod.Get, "/api/notifications/01JD3ZABCDEFGHJKMNPQRSTVWX", user), HttpStatusCode.NotFound),
            ("validation", () => api.SendAsync(HttpMethod.Get, "/api/notifications?limit=0", user), HttpStatusCode.BadRequest),
            ("malformed JSON", () => api.SendAsync(HttpMethod.Post, "/api/notifications", api.AdminToken(), "{\"user_id\":"), HttpStatusCode.BadRequest),
            ("no token", () => api.SendAsync(HttpMethod.Get, "/api/notifications"), HttpStatusCode.Unauthorized),
            ("bad API key", () => api.SendAsync(HttpMethod.Post, "/api/notifications", body: new { }, headers: new Dictionary<string, string> { ["X-Api-Key"] = "nope" }), HttpStatusCode.Unauthorized),
            ("forbidden", () => api.SendAsync(HttpMethod.Post, "/api/notifications", user, new { user_id = "x", type = "t", title = "t" }), HttpStatusCode.Forbidden),
            ("token in query", () => api.SendAsync(HttpMethod.Get, "/api/notifications?token=abc"), HttpStatusCode.BadRequest),
        };
        foreach (var (what, send, status) in cases)
        {
            using var response = await send();
            var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

            Assert.True(response.StatusCode == status, $"{what}: {(int)response.StatusCode} {text}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var body = JsonNode.Parse(text)!.AsObject();
            Assert.True(body.ContainsKey("trace_id"), $"{what}: {text}");
            Assert.False(body.ContainsKey("traceId"), $"{what}: {text}");
            Assert.Equal((int)status, (int)body["status"]!);
        }
    }
}
