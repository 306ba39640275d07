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
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(http, Request(HttpMethod.Get, "/api/tasks/01kaz0000000000000000000zz", alice))).Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, Request(HttpMethod.Get, $"/api/tasks/{id}", "root", admin: true))).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(http, Request(HttpMethod.Get, $"/api/tasks/{id}", null))).Status);

        var (cancelled, cancelBody) = await SendAsync(http, Request(HttpMethod.Post, $"/api/tasks/{id}/cancel", alice));
        Assert.Equal(HttpStatusCode.OK, cancelled);
        Assert.Equal("cancelled", cancelBody.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await SendAsync(http, Request(HttpMethod.Post, $"/api/tasks/{id}/cancel", alice))).Status);
        Assert.Equal("cancelled", (await SendAsync(http, Request(HttpMethod.Get, $"/api/tasks/{id}", alice))).Body.GetProperty("status").GetString());
    }

    [Fact]
    public async Task TasksApi_BadInput_400NamingTheFieldOr413NamingTheLimitAtEachEdge()
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

        async Task AssertTooLarge(object body, string path, string field, string limit, int max)
        {
            var (status, problem) = await SendAsync(http, Request(HttpMethod.Post, path, user, body));
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"{field} not named in {problem}");
            Assert.Equal(limit, problem.GetProperty("limit").GetString());
            Assert.Equal(max, problem.GetProperty("max").GetInt32());
            Assert.Contains(limit, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        await AssertField(new { kind = "nope" }, "/api/tasks", "kind");
        await AssertField(new { @params = new { } }, "/api/tasks", "kind");
        await AssertField(new { kind = "demo", items = Array.Empty<object>() }, "/api/batches", "items");
        // {"blob":"…"} is 11 bytes around the string: 54 characters make 65 bytes, one over the limit.
        await AssertTooLarge(new { kind = "demo", @params = new { blob = new string('x', 54) } }, "/api/tasks", "params", "Queue:MaxParamsBytes", 64);
        await AssertTooLarge(new { kind = "demo", items = new object[] { 1, 2, 3, 4 } }, "/api/batches", "items", "Queue:MaxBatchItems", 3);
        await AssertTooLarge(new { kind = "demo", items = new object[] { 1, new { blob = new string('x', 54) } } }, "/api/batches", "items[1]", "Queue:MaxParamsBytes", 64);

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
    public async Task TasksApi_CreatesBeyondTheUsersRate_429WithRetryAfterNamingTheLimit()
    {
        var (api, http) = await StartApiAsync(("Api__UserTaskCreatesPerWindow", "3"), ("Api__RateLimitWindow", "00:01:00"));
        await using var apiProcess = api;
        using var client = http;
        var hank = "hank-" + Guid.NewGuid().ToString("N");

        // Tasks and batches share the window: three creates pass, the fourth is refused.
        Assert.Equal(HttpStatusCode.Accepted, (await SendAsync(http, Request(HttpMethod.Post, "/api/tasks", hank, new { kind = "noop" }))).Status);
        Assert.Equal(HttpStatusCode.Accepted, (await SendAsync(http, Request(HttpMethod.Post, "/api/batches", hank, new { kind = "noop", items = new object[] { 1, 2 } }))).Status);
        Assert.Equal(HttpStatusCode.Accepted, (await SendAsync(http, Request(HttpMethod.Post, "/api/tasks", hank, new { kind = "noop" }))).Status);
        using var refused = Request(HttpMethod.Post, "/api/batches", hank, new { kind = "noop", items = new object[] { 1 } });
        using var response = await http.SendAsync(refused, Ct);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.InRange(int.Parse(response.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture), 1, 60);
        Assert.Equal("Api:UserTaskCreatesPerWindow", problem.GetProperty("limit").GetString());
        Assert.Equal(3, problem.GetProperty("max").GetInt32());
        // Another user has a window of their own, and reads are not limited.
        Assert.Equal(HttpStatusCode.Accepted, (await SendAsync(http, Request(HttpMethod.Post, "/api/tasks", "ida-" + Guid.NewGuid().ToString("N"), new { kind = "noop" }))).Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, Request(HttpMethod.Get, "/api/queue/stats", "root", admin: true))).Status);
    }

    [Theory]
    [InlineData("Production", null, false)]
    [InlineData("Staging", null, false)]
    [InlineData("Development", null, true)]
    [InlineData("Production", "true", true)]
    [InlineData("Development", "false", false)]
    public async Task TasksApi_DemoKinds_OnlyInDevelopmentUnlessConfigured(string environment, string? enable, bool accepted)
    {
        var settings = new List<(string, string)> { ("ASPNETCORE_ENVIRONMENT", environment), ("Auth__EnableDevTokens", "false") };
        if (enable is not null)
        {
            settings.Add(("Queue__EnableDemoKinds", enable));
        }
        var (api, http) = await StartApiAsync([.. settings]);
        await using var apiProcess = api;
        using var client = http;

        foreach (var kind in new[] { "demo", "noop" })
        {
            var (status, body) = await SendAsync(http, Request(HttpMethod.Post, "/api/tasks", "jack", new { kind }));
            Assert.Equal(accepted ? HttpStatusCode.Accepted : HttpStatusCode.BadRequest, status);
            if (!accepted)
            {
                Assert.True(body.GetProperty("errors").TryGetProperty("kind", out _), body.ToString());
            }
        }
    }

    [Fact]
    public async Task TasksApi_MalformedIds_400NamingIdAndNeverA500()
    {
        var (api, http) = await StartApiAsync();
        await using var apiProcess = api;
        using var client = http;
        const string user = "mia";
        var (_, batch) = await SendAsync(http, Request(HttpMethod.Post, "/api/batches", user, new { kind = "noop", items = new object[] { 1 } }));
        var batchId = batch.GetProperty("batch_id").GetString()!;
        var taskId = batch.GetProperty("task_ids")[0].GetString()!;

        // Ids that address other Redis keys of the same task or batch, or nothing at all.
        foreach (var id in new[] { batchId + ":tasks", taskId + ":x", "nope", taskId.ToUpperInvariant(), new string('a', 500), "%2F..%2F" })
        {
            foreach (var (method, path) in new[] { (HttpMethod.Get, $"/api/tasks/{id}"), (HttpMethod.Get, $"/api/batches/{id}"), (HttpMethod.Post, $"/api/tasks/{id}/cancel") })
            {
                var (status, problem) = await SendAsync(http, Request(method, path, user));
                Assert.True(status == HttpStatusCode.BadRequest, $"{method} {path}: {(int)status} {problem}");
                Assert.True(problem.GetProperty("errors").TryGetProperty("id", out _), problem.ToString());
            }
        }
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, Request(HttpMethod.Get, $"/api/batches/{batchId}", user))).Status);
    }

    [Fact]
    public async Task TasksApi_AcceptEventStreamOnly_406NamingTheRealtimeStream()
    {
        var (api, http) = await StartApiAsync();
        await using var apiProcess = api;
        using var client = http;
        var (_, batch) = await SendAsync(http, Request(HttpMethod.Post, "/api/batches", "omar", new { kind = "noop", items = new object[] { 1 } }));
        var batchId = batch.GetProperty("batch_id").GetString()!;
        var taskId = batch.GetProperty("task_ids")[0].GetString()!;

        foreach (var (path, stream) in new[] { ($"/api/tasks/{taskId}", $"/api/sse/tasks/{taskId}"), ($"/api/batches/{batchId}", $"/api/sse/batches/{batchId}") })
        {
            using var streaming = Request(HttpMethod.Get, path, "omar");
            streaming.Headers.Accept.ParseAdd("text/event-stream");
            var (status, problem) = await SendAsync(http, streaming);
            Assert.Equal(HttpStatusCode.NotAcceptable, status);
            Assert.Equal(stream, problem.GetProperty("stream").GetString());

            // A client that also takes JSON gets JSON.
            using var either = Request(HttpMethod.Get, path, "omar");
            either.Headers.Accept.ParseAdd("text/event-stream");
            either.Headers.Accept.ParseAdd("application/json");
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, either)).Status);
        }
    }

    [Fact]
    public async Task TasksApi_TokenInQueryString_RefusedWith400EvenBesideAValidHeader()
    {
        var (api, http) = await StartApiAsync();
        await using var apiProcess = api;
        using var client = http;
        var token = Tokens.Issue("nina", [], TimeSpan.FromMinutes(5)).Token;
        var (_, created) = await SendAsync(http, Request(HttpMethod.Post, "/api/tasks", "nina", new { kind = "noop" }));
        var id = created.GetProperty("task_id").GetString()!;

        foreach (var (method, path) in new[] { (HttpMethod.Get, $"/api/tasks/{id}"), (HttpMethod.Post, "/api/tasks"), (HttpMethod.Get, $"/api/batches/{id}"), (HttpMethod.Get, "/api/notifications") })
        {
            var anonymous = await SendAsync(http, Request(method, $"{path}?token={token}", null, method == HttpMethod.Post ? new { kind = "noop" } : null));
            var withHeader = await SendAsync(http, Request(method, $"{path}?token={token}", "nina", method == HttpMethod.Post ? new { kind = "noop" } : null));
            Assert.Equal(HttpStatusCode.BadRequest, anonymous.Status);
            Assert.Equal(HttpStatusCode.BadRequest, withHeader.Status);
            Assert.True(withHeader.Body.GetProperty("errors").TryGetProperty("token", out _), withHeader.Body.ToString());
        }
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, Request(HttpMethod.Get, $"/api/tasks/{id}", "nina"))).Status);
    }

    [Fact]
    public async Task TasksApi_CancelBatchTask_PublishesBatchProgressWithTheCancel()
    {
        var (api, http) = await StartApiAsync();
        await using var apiProcess = api;
        using var client = http;
        var gina = "gina-" + Guid.NewGuid().ToString("N");
        var (_, batch) = await SendAsync(http, Request(HttpMethod.Post, "/api/batches", gina, new { kind = "demo", items = new object[] { 1, 2 } }));
        var batchId = batch.GetProperty("batch_id").GetString()!;
        await using var mux = await redis.ConnectAsync();
        var bus = new Core.Messaging.RedisMessageBus(mux, new Core.Messaging.RedisChannels(),
            new Fixed<Core.Messaging.ChannelOptions>(new()), TimeProvider.System);
        var frame = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var subscription = await bus.SubscribeAsync(Core.Messaging.BusTopic.Batch(batchId),
            (_, bytes) => frame.TrySetResult(JsonDocument.Parse(bytes).RootElement.Clone()), Ct);

        var taskId = batch.GetProperty("task_ids")[0].GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, Request(HttpMethod.Post, $"/api/tasks/{taskId}/cancel", gina))).Status);

        var progress = await frame.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal("progress", progress.GetProperty("type").GetString());
        Assert.Equal(1, progress.GetProperty("data").GetProperty("cancelled").GetInt32());
        Assert.Equal(1, progress.GetProperty("data").GetProperty("queued").GetInt32());
        var (_, view) = await SendAsync(http, Request(HttpMethod.Get, $"/api/batches/{batchId}", gina));
        Assert.Equal(1, view.GetProperty("cancelled").GetInt32());
        Assert.Equal(50, view.GetProperty("progress").GetDouble());
    }

    private sealed class Fixed<T>(T value) : IOptionsMonitor<T>
    {
        public T CurrentValue => value;
        public T Get(string? name) => value;
        public IDisposable? OnChange(Action<T, string?> listener) => null;
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
        using (var refused = await http.SendAsync(Request(HttpMethod.Post, "/api/tasks", erin, new { kind = "noop" }), Ct))
        {
            var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync(Ct)).RootElement;
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            Assert.True(refused.Headers.Contains("Retry-After"));
            Assert.Equal("Queue:MaxQueuedPerUser", problem.GetProperty("limit").GetString());
            Assert.Equal(2, problem.GetProperty("max").GetInt32());
        }
        // A batch that would go over the cap is refused whole.
        Assert.Equal(HttpStatusCode.TooManyRequests, (await SendAsync(http, Request(HttpMethod.Post, "/api/batches", erin, new { kind = "noop", items = new object[] { 1 } }))).Status);

        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(http, Request(HttpMethod.Get, "/api/queue/stats", erin))).Status);
        var (status, stats) = await SendAsync(http, Request(HttpMethod.Get, "/api/queue/stats", "root", admin: true));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, stats.GetProperty("queued").GetInt64());
        Assert.Equal(0, stats.GetProperty("processing").GetInt64());
        Assert.Equal(4, stats.GetProperty("per_user_limit").GetInt32());
        Assert.Equal(9, stats.GetProperty("global_limit").GetInt32());
    }
}
