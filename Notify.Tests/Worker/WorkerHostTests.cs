using System.Net;
using Microsoft.Extensions.Time.Testing;
using Notify.Core.Notifications;
using Notify.Tests.Infrastructure;

namespace Notify.Tests.Worker;

public sealed class WorkerHostTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Dashboard_AnonymousOrNonAdmin_RefusedAndAdminAdmittedByHeaderOrLinkCookie()
    {
        await using var cluster = await WorkerCluster.CreateAsync(redis);
        var worker = await cluster.StartWorkerAsync();
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = worker.BaseAddress };
        var admin = cluster.Token("root-" + Guid.NewGuid().ToString("N"), "admin");
        var user = cluster.Token("mallory-" + Guid.NewGuid().ToString("N"));

        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/hangfire", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Get(http, "/hangfire", bearer: "not-a-token")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Get(http, "/hangfire", bearer: user)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Get(http, "/hangfire", bearer: admin)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/hangfire?token=garbage", Ct)).StatusCode);

        // A link with ?token= becomes an HttpOnly cookie and a redirect without the token.
        var link = await http.GetAsync("/hangfire/recurring?token=" + admin, Ct);
        Assert.Equal(HttpStatusCode.Redirect, link.StatusCode);
        Assert.DoesNotContain("token", link.Headers.Location!.ToString(), StringComparison.Ordinal);
        var setCookie = Assert.Single(link.Headers.GetValues("Set-Cookie"));
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);
        var cookie = setCookie.Split(';')[0];

        var page = await Get(http, "/hangfire/recurring", cookie: cookie);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync(Ct);
        Assert.Contains("queue-recover-expired", html, StringComparison.Ordinal);
        Assert.Contains("notifications-cleanup", html, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await Get(http, "/hangfire/stats", cookie: cookie, post: true)).StatusCode);

        var userLink = await http.GetAsync("/hangfire?token=" + user, Ct);
        var userCookie = Assert.Single(userLink.Headers.GetValues("Set-Cookie")).Split(';')[0];
        Assert.Equal(HttpStatusCode.Forbidden, (await Get(http, "/hangfire", cookie: userCookie)).StatusCode);
    }

    [Fact]
    public async Task CleanupJob_OnItsSchedule_KeepsNewestPerUserAndNothingOlderThanRetention()
    {
        await using var cluster = await WorkerCluster.CreateAsync(redis, new Dictionary<string, string>
        {
            ["Retention:Days"] = "10",
            ["Retention:KeepPerUser"] = "3",
            ["Worker:CleanupCron"] = "* * * * * *",
        });
        var store = cluster.OpenStore();
        await store.InitializeAsync(Ct);
        var now = DateTimeOffset.UtcNow;
        var u1 = "u1-" + Guid.NewGuid().ToString("N");
        var u2 = "u2-" + Guid.NewGuid().ToString("N");
        var u3 = "u3-" + Guid.NewGuid().ToString("N");
        // u1: six recent; u2: two recent and three older than 10 days; u3: only old ones.
        var u1Ids = await AddAsync(store, u1, [.. Enumerable.Range(0, 6).Select(i => now.AddHours(-30 + i))]);
        var u2Ids = await AddAsync(store, u2, [now.AddDays(-20), now.AddDays(-15), now.AddDays(-11), now.AddDays(-9), now.AddDays(-1)]);
        await AddAsync(store, u3, [now.AddDays(-40), now.AddDays(-12)]);

        await cluster.StartWorkerAsync();
        await WorkerCluster.WaitUntilAsync(async () =>
            (await store.ListAsync(u1, new() { Limit = 100 }, Ct)).Items.Count == 3
            && (await store.ListAsync(u2, new() { Limit = 100 }, Ct)).Items.Count == 2
            && (await store.ListAsync(u3, new() { Limit = 100 }, Ct)).Items.Count == 0,
            TimeSpan.FromSeconds(30), "retention applied");

        Assert.Equal(u1Ids[^3..].Reverse(), (await store.ListAsync(u1, new() { Limit = 100 }, Ct)).Items.Select(n => n.Id));
        Assert.Equal(u2Ids[^2..].Reverse(), (await store.ListAsync(u2, new() { Limit = 100 }, Ct)).Items.Select(n => n.Id));
    }

    [Theory]
    [InlineData("Queue__Kinds__2", "mystery", "Queue:Kinds")]
    [InlineData("Worker__RecoveryCron", "every minute", "Worker:RecoveryCron")]
    [InlineData("Queue__VisibilityTimeout", "00:00:00.001", "VisibilityTimeout")]
    public async Task Start_BadConfiguration_FailsNamingTheKey(string variable, string value, string named)
    {
        var env = new Dictionary<string, string?>(TestEnvironment.For(redis)) { [variable] = value };

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => ServiceProcess.StartAsync("Notify.Worker", env));

        Assert.Contains(named, failure.Message, StringComparison.Ordinal);
    }

    private static async Task<string[]> AddAsync(INotificationStore store, string user, DateTimeOffset[] times)
    {
        var ids = new List<string>();
        foreach (var at in times)
        {
            var id = new NotificationIds(new FakeTimeProvider(at)).Next();
            await store.CreateAsync(new Notification { Id = id, UserId = user, Type = "test", Title = "t", CreatedAt = at }, null, Ct);
            ids.Add(id);
        }
        return [.. ids];
    }

    private static async Task<HttpResponseMessage> Get(HttpClient http, string path, string? bearer = null, string? cookie = null, bool post = false)
    {
        using var request = new HttpRequestMessage(post ? HttpMethod.Post : HttpMethod.Get, path);
        if (bearer is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearer);
        }
        if (cookie is not null)
        {
            request.Headers.Add("Cookie", cookie);
        }
        if (post)
        {
            request.Content = new FormUrlEncodedContent([]);
        }
        return await http.SendAsync(request, Ct);
    }
}
