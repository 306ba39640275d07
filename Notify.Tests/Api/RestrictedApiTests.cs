using System.Net;

namespace Notify.Tests.Api;

/// <summary>An Api with dev tokens off, tiny create rate limits, in the Development environment (for the reference page).</summary>
public sealed class RestrictedApiFixture : ApiFixture
{
    public const int UserLimit = 3;
    public const int KeyLimit = 4;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraEnvironment =>
    [
        new("ASPNETCORE_ENVIRONMENT", "Development"),
        new("Auth__EnableDevTokens", "false"),
        new("Api__UserCreatesPerWindow", UserLimit.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("Api__ApiKeyCreatesPerWindow", KeyLimit.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("Api__RateLimitWindow", "00:05:00"),
    ];
}

public sealed class RestrictedApiTests(RestrictedApiFixture api) : IClassFixture<RestrictedApiFixture>
{
    [Fact]
    public async Task DevToken_WhenDisabled_Returns404()
    {
        using var response = await api.SendAsync(HttpMethod.Post, "/api/auth/dev-token", body: new { user_id = "alice", roles = new[] { "admin" } });
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Create_OverUserLimit_Returns429WithRetryAfterWhileOtherCallersProceed()
    {
        var admin = api.AdminToken();
        for (var i = 0; i < RestrictedApiFixture.UserLimit; i++)
        {
            using var ok = await api.SendAsync(HttpMethod.Post, "/api/notifications", admin, new { user_id = ApiFixture.NewUser(), type = "t", title = "t" });
            Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        }

        using var limited = await api.SendAsync(HttpMethod.Post, "/api/notifications/broadcast", admin, new { type = "t", content = "c", channel = "public:x" });
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
        var retryAfter = int.Parse(Assert.Single(limited.Headers.GetValues("Retry-After")), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 1, 300);

        // Another admin has its own window.
        using var other = await api.SendAsync(HttpMethod.Post, "/api/notifications", api.AdminToken(), new { user_id = ApiFixture.NewUser(), type = "t", title = "t" });
        Assert.Equal(HttpStatusCode.Created, other.StatusCode);
        // Reads are not limited.
        using var read = await api.SendAsync(HttpMethod.Get, "/api/notifications/unread_count", admin);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
    }

    [Fact]
    public async Task Create_OverApiKeyLimit_Returns429WithRetryAfter()
    {
        var headers = new Dictionary<string, string> { ["X-Api-Key"] = ApiKey };
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i <= RestrictedApiFixture.KeyLimit; i++)
        {
            using var response = await api.SendAsync(HttpMethod.Post, "/api/notifications/send", body: new { target_user = ApiFixture.NewUser(), notification_type = "t", content = "c" }, headers: headers);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.True(response.Headers.RetryAfter is not null);
            }
        }
        Assert.Equal(Enumerable.Repeat(HttpStatusCode.Created, RestrictedApiFixture.KeyLimit).Append(HttpStatusCode.TooManyRequests), statuses);
    }

    [Fact]
    public async Task Scalar_InDevelopment_ServesReferencePage()
    {
        using var response = await api.SendAsync(HttpMethod.Get, "/scalar/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
    }

    private const string ApiKey = ApiFixture.ApiKey;
}
