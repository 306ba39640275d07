using System.Net;
using Notify.Tests.Infrastructure;

namespace Notify.Tests.Api;

/// <summary>An Api whose Redis is unreachable: the store is the truth, the bus is best effort.</summary>
public sealed class RedisDownApiFixture : ApiFixture
{
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraEnvironment =>
    [
        new("ConnectionStrings__redis", $"127.0.0.1:{RedisServer.FreePort()},abortConnect=false,connectTimeout=200,syncTimeout=500,asyncTimeout=500"),
    ];
}

public sealed class RedisDownApiTests(RedisDownApiFixture api) : IClassFixture<RedisDownApiFixture>
{
    [Fact]
    public async Task Create_WithRedisDown_StillStoresAndAnswers201()
    {
        var user = ApiFixture.NewUser();
        var created = await api.CreateAsync(user, title: "durable");

        using var get = await api.SendAsync(HttpMethod.Get, $"/api/notifications/{created["id"]}", api.UserToken(user));
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal("durable", (string?)(await ApiFixture.ReadJsonAsync(get))["title"]);
    }

    [Fact]
    public async Task CreateAndMarkRead_WithRedisDown_DoNotWaitForRedis()
    {
        // Waiting for the Redis client's reconnect backlog costs its 500 ms timeout per call (10 s here).
        var user = ApiFixture.NewUser();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 10; i++)
        {
            var created = await api.CreateAsync(user, title: $"n{i}");
            using var read = await api.SendAsync(HttpMethod.Post, $"/api/notifications/{created["id"]}/read", api.UserToken(user));
            Assert.Equal(HttpStatusCode.NoContent, read.StatusCode);
        }

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(4), $"10 creates and mark-reads took {watch.Elapsed}");
    }

    [Fact]
    public async Task Broadcast_WithRedisDown_Returns503Problem()
    {
        using var response = await api.SendAsync(HttpMethod.Post, "/api/notifications/broadcast", api.AdminToken(), new { type = "t", content = "c" });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task CreateTask_WithRedisDown_Returns503WithRetryAfterAndStoresNothing()
    {
        var user = ApiFixture.NewUser();
        using var response = await api.SendAsync(HttpMethod.Post, "/api/tasks", api.UserToken(user), new { kind = "demo", @params = new { steps = 1 } });

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
        var problem = await ApiFixture.ReadJsonAsync(response);
        Assert.Contains("task queue", (string?)problem["detail"]);
        Assert.NotNull((string?)problem["trace_id"]);
    }
}
