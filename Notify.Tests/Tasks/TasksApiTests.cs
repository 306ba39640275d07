using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Notify.Core.Auth;
using Notify.Tests.Infrastructure;

namespace Notify.Tests.Tasks;

/// <summary>The task endpoints of a real Api process (no Worker: tasks stay queued unless cancelled).</summary>
public sealed class TasksApiTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly NotifyTokens Tokens = new(Options.Create(new AuthOptions { SigningKey = TestEnvironment.SigningKey }), TimeProvider.System);

    private async Task<(ServiceProcess Api, HttpClient Http)> StartApiAsync(params (string Key, string Value)[] settings)
    {
        var env = new Dictionary<string, string?>(TestEnvironment.For(redis)) { ["Queue__KeyPrefix"] = "tapi:" + Guid.NewGuid().ToString("N")[..10] };
        foreach (var (key, value) in settings)
        {
            env[key] = value;
        }
        var api = await ServiceProcess.StartAsync("Notify.Api", env);
        return (api, new HttpClient { BaseAddress = api.BaseAddress });
    }

    private static HttpRequestMessage Request(HttpMethod method, string path, string? user, object? body = null, bool admin = false)
    {
        var request = new HttpRequestMessage(method, path);
        if (user is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Tokens.Issue(user, admin ? ["admin"] : [], TimeSpan.FromMinutes(5)).Token);
        }
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }
        return request;
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpClient http, HttpRequestMessage request)
    {
        using (request)
        {
            using var response = await http.SendAsync(request, Ct);
            var text = await response.Content.ReadAsStringAsync(Ct);
            return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
        }
    }

    [Fact]
    public async Task TasksApi_CreateGetCancel_OwnerOrAdminOnlyAndOthersSee404()
    {
        var (api, http) = await StartApiAsync();
        await using var apiProcess = api;
        using var client = http;
        var alice = "alice-" + Guid.NewGuid().ToString("N");

        var (created, body) = await SendAsync(http, Request(HttpMethod.Post, "/api/tasks", alice, new { kind = "demo", @params = new { steps = 2 } }));
        Assert.Equal(HttpStatusCode.Accepted, created);
        Assert.Equal("queued", body.GetProperty("status").GetString());
        var id = body.GetProperty("task_id").GetString()!;

        var (status, task) = await SendAsync(http, Request(HttpMethod.Get, $"/api/tasks/{id}", alice));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(alice, task.GetProperty("user_id").GetString());
        Assert.Equal(2, task.GetProperty("params").GetProperty("steps").GetInt32());
        Assert.Equal("queued", task.GetProperty("progress").GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(http, Request(HttpMethod.Get, $"/api/tasks/{id}", "bob"))).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(http, Request(HttpMethod.Post, $"/api/tasks/{id}/cancel", "bob"))).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(http, Request(HttpMethod.Get, "/api/tasks/nope", alice))).Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, Request(HttpMethod.Get, $"/api/tasks/{id}", "root", admin: true))).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(http, Request(HttpMethod.Get, $"/api/tasks/{id}", null))).Status);

        var (cancelled, cancelBody) = await SendAsync(http, Request(HttpMethod.Post, $"/api/tasks/{id}/cancel", alice));
        Assert.Equal(HttpStatusCode.OK, cancelled);
        Assert.Equal("cancelled", cancelBody.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await SendAsync(http, Request(HttpMethod.Post, $"/api/tasks/{id}/cancel", alice))).Status);
        Assert.Equal("cancelled", (await SendAsync(http, Request(HttpMethod.Get, $"/api/tasks/{id}", alice))).Body.GetProperty("status").GetString());
    }

    [Fact]
    public async Task TasksApi_BadInput_400NamingTheFieldAtEachLimit()
    {
        var (api, http) = await StartApiAsync(("Queue__MaxParamsBytes", "64"), ("Queue__MaxBatchItems", "3"));
        await using var apiProcess = api;
        using var client = http;
        const string user = "carol";

        async Task AssertField(object body, string path, string field)
        {
            var (status, problem) = await SendAsync(http, Request(HttpMethod.Post, path, user, body));
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"{field} not named in {problem}");
        }

        await AssertField(new { kind = "nope" }, "/api/tasks", "kind");
        await AssertField(new { @params = new { } }, "/api/tasks", "kind");
        // {"blob":"…"} is 11 bytes around the string: 54 characters make 65 bytes, one over the limit.
        await AssertField(new { kind = "demo", @params = new { blob = new string('x', 54) } }, "/api/tasks", "params");
        await AssertField(new { kind = "demo", items = Array.Empty<object>() }, "/api/batches", "items");
        await AssertField(new { kind = "demo", items = new object[] { 1, 2, 3, 4 } }, "/api/batches", "items");
        await AssertField(new { kind = "demo", items = new object[] { 1, new { blob = new string('x', 54) } } }, "/api/batches", "items[1]");

        // At the limits exactly: accepted.
        Assert.Equal(HttpStatusCode.Accepted, (await SendAsync(http, Request(HttpMethod.Post, "/api/tasks", user, new { kind = "demo", @params = new { blob = new string('x', 53) } }))).Status);
        var (batchStatus, batch) = await SendAsync(http, Request(HttpMethod.Post, "/api/batches", user, new { kind = "noop", items = new object[] { 1, 2, 3 } }));
        Assert.Equal(HttpStatusCode.Accepted, batchStatus);
        Assert.Equal(3, batch.GetProperty("task_ids").GetArrayLength());

        var (status, view) = await SendAsync(http, Request(HttpMethod.Get, $"/api/batches/{batch.GetProperty("batch_id").GetString()}", user));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(3, view.GetProperty("total").GetInt32());
        Assert.Equal(3, view.GetProperty("queued").GetInt32());
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(http, Request(HttpMethod.Get, $"/api/batches/{batch.GetProperty("batch_id").GetString()}", "dave"))).Status);
    }

    [Fact]
    public async Task TasksApi_QueueStatsAndUserCap_AdminOnlyStatsAnd429AtCap()
    {
        var (api, http) = await StartApiAsync(("Queue__MaxQueuedPerUser", "2"), ("Queue__PerUserConcurrency", "4"), ("Queue__GlobalConcurrency", "9"));
        await using var apiProcess = api;
        using var client = http;
        var erin = "erin-" + Guid.NewGuid().ToString("N");

        Assert.Equal(HttpStatusCode.Accepted, (await SendAsync(http, Request(HttpMethod.Post, "/api/tasks", erin, new { kind = "noop" }))).Status);
        Assert.Equal(HttpStatusCode.Accepted, (await SendAsync(http, Request(HttpMethod.Post, "/api/tasks", erin, new { kind = "noop" }))).Status);
        var (full, problem) = await SendAsync(http, Request(HttpMethod.Post, "/api/tasks", erin, new { kind = "noop" }));
        Assert.Equal(HttpStatusCode.TooManyRequests, full);
        Assert.Contains("MaxQueuedPerUser", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(http, Request(HttpMethod.Get, "/api/queue/stats", erin))).Status);
        var (status, stats) = await SendAsync(http, Request(HttpMethod.Get, "/api/queue/stats", "root", admin: true));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, stats.GetProperty("queued").GetInt64());
        Assert.Equal(0, stats.GetProperty("processing").GetInt64());
        Assert.Equal(4, stats.GetProperty("per_user_limit").GetInt32());
        Assert.Equal(9, stats.GetProperty("global_limit").GetInt32());
    }
}
