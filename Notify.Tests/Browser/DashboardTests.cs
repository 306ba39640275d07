using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Notify.Tests.Testing;

namespace Notify.Tests.Browser;

/// <summary>
/// The Aspire dashboard of a real <c>dotnet run --project Notify.AppHost</c>: signed in with the token the console
/// prints, it shows every resource and the trace of a notification create, from the Api through Redis to Realtime.
/// </summary>
[Collection(nameof(BrowserCollection))]
public sealed partial class DashboardTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Dashboard_SignedInWithThePrintedToken_ShowsEveryResourceRunningHealthyAndTheTraceOfACreate()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var appHost = AppHostProcess.Start(["--AppHost:UseMongod=false"]);
        await appHost.WaitForOutputAsync(l => l.Contains("Notify is running: web UI http://", StringComparison.Ordinal), Deadline);
        var api = new Uri(WebUiUrl().Match(appHost.AllOutput).Groups[1].Value);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = BrowserSystem.ChromiumPath(),
            Headless = true,
            Args = BrowserSystem.ChromiumArgs,
            Timeout = 60_000,
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1600, Height = 1000 } });
        await page.GotoAsync(appHost.DashboardLoginUrl.ToString());

        // Resources: one row per resource (two for the Realtime replicas); the services Running (the dashboard shows
        // an unhealthy one with a warning instead), MongoDB and its database Not used.
        var rows = page.GetByRole(AriaRole.Row);
        Directory.CreateDirectory(BrowserSystem.ScreenshotDirectory);
        try
        {
        foreach (var (name, state) in new[] { ("redis", "Running"), ("worker", "Running"), ("api", "Running"), ("mongo", "Not used"), ("notifydb", "Not used") })
        {
            await Assertions.Expect(rows.Filter(new() { HasText = name }).Filter(new() { HasText = state }))
                .ToHaveCountAsync(1, new() { Timeout = 90_000 });
        }
        await Assertions.Expect(rows.Filter(new() { HasTextRegex = new Regex(@"\brealtime-\w+") }).Filter(new() { HasText = "Running" }))
            .ToHaveCountAsync(2, new() { Timeout = 90_000 });
        }
        finally
        {
            await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserSystem.ScreenshotDirectory, "dashboard-resources.png"), FullPage = true });
        }

        // A user connected to Realtime (through the one URL the web UI gets), one create through the Api, then its trace.
        using var http = new HttpClient { BaseAddress = api };
        var token = await TokenAsync(http, "dashboard-admin", ["admin"], ct);
        var realtime = (await http.GetFromJsonAsync<JsonObject>("/api/config", ct))!.ToJsonString();
        var realtimeUrl = new Uri(RealtimeUrl().Match(realtime).Value);
        using var socket = new System.Net.WebSockets.ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://{realtimeUrl.Authority}/api/ws/notifications?token={await TokenAsync(http, "dashboard-user", [], ct)}"), ct);
        var frame = new byte[8192];
        Assert.Contains("\"connected\"", System.Text.Encoding.UTF8.GetString(frame, 0, (await socket.ReceiveAsync(frame, ct)).Count), StringComparison.Ordinal);
        using var create = new HttpRequestMessage(HttpMethod.Post, "/api/notifications")
        {
            Content = JsonContent.Create(new { user_id = "dashboard-user", type = "test", title = "traced" }),
        };
        create.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Assert.True((await http.SendAsync(create, ct)).IsSuccessStatusCode);
        Assert.Contains("\"traced\"", System.Text.Encoding.UTF8.GetString(frame, 0, (await socket.ReceiveAsync(frame, ct)).Count), StringComparison.Ordinal);

        await page.GotoAsync(new Uri(appHost.DashboardLoginUrl, "/traces").ToString());
        // The dashboard adds traces and their spans live as they arrive (each service exports every few seconds);
        // the trace's row names every resource it crossed.
        var trace = page.GetByRole(AriaRole.Row).Filter(new() { HasText = "POST /api/notifications" }).Filter(new() { HasText = "realtime" }).First;
        try
        {
            await Assertions.Expect(trace).ToBeVisibleAsync(new() { Timeout = 90_000 });
        }
        finally
        {
            await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserSystem.ScreenshotDirectory, "dashboard-traces.png"), FullPage = true });
        }
        await trace.ClickAsync();
        // One trace across the services: the Api's request, its Redis publish, Realtime's delivery of it.
        try
        {
            // The dashboard names messaging spans by system ("MSG redis") and Redis commands as "DATA redis <command>".
            var spans = page.GetByRole(AriaRole.Row);
            await Assertions.Expect(spans.Filter(new() { HasText = "api: MSG redis" }).First).ToBeVisibleAsync(new() { Timeout = 30_000 });
            await Assertions.Expect(spans.Filter(new() { HasText = "PUBLISH" }).First).ToBeVisibleAsync(new() { Timeout = 60_000 });
            await Assertions.Expect(spans.Filter(new() { HasTextRegex = RealtimeDelivery() }).First).ToBeVisibleAsync(new() { Timeout = 60_000 });
        }
        finally
        {
            await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserSystem.ScreenshotDirectory, "dashboard-trace.png"), FullPage = true });
        }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(TimeSpan.FromSeconds(90));
        while (!await condition())
        {
            await Task.Delay(500, deadline.Token);
        }
    }

    private static async Task<string> TokenAsync(HttpClient http, string user, string[] roles, CancellationToken ct) =>
        (await (await http.PostAsJsonAsync("/api/auth/dev-token", new { user_id = user, roles }, ct))
            .Content.ReadFromJsonAsync<JsonObject>(ct))!["token"]!.GetValue<string>();

    [GeneratedRegex(@"realtime-\w+: MSG redis")]
    private static partial Regex RealtimeDelivery();

    [GeneratedRegex(@"http://[^""]+")]
    private static partial Regex RealtimeUrl();

    [GeneratedRegex(@"web UI (http://\S+/)")]
    private static partial Regex WebUiUrl();
}
