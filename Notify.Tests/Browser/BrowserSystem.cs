using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Aspire.Hosting.Testing;
using Notify.Tests.Infrastructure;
using Notify.Tests.Testing;

namespace Notify.Tests.Browser;

/// <summary>
/// The whole system as the AppHost declares it (Redis, two Realtime replicas behind one URL, the Api serving
/// the web UI, the Worker), started by Aspire's testing host, plus a headless Chromium driven by Playwright. The
/// browser is Debian's <c>/usr/bin/chromium</c> (or <c>NOTIFY_CHROMIUM</c>); no browser is ever
/// downloaded. Shared by the tests of <see cref="BrowserCollection"/>; every test uses its own user
/// ids and its own browser context, and restarts any replica it stops.
/// </summary>
public sealed class BrowserSystem : DistributedApplicationFixture, IAsyncLifetime, IAsyncDisposable
{
    public static readonly string[] ChromiumArgs =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
    ];

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public Uri ApiAddress => App.GetEndpoint("api", "http");

    public HttpClient Http { get; private set; } = null!;

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("not started");

    /// <summary>Where screenshots go: <c>NOTIFY_SCREENSHOTS</c> (web/screenshots.sh sets docs/screenshots), else TestResults/screenshots under the repository root.</summary>
    public static string ScreenshotDirectory { get; } = Environment.GetEnvironmentVariable("NOTIFY_SCREENSHOTS") is { Length: > 0 } configured
        ? Path.GetFullPath(configured, ServiceProcess.RepositoryRoot)
        : Path.Combine(ServiceProcess.RepositoryRoot, "TestResults", "screenshots");

    /// <summary>
    /// The web UI's address. Unless <paramref name="seenOnDisplay"/>, with <c>?seen=manual</c>: the inbox then does
    /// not mark what it shows seen, so tests of the badge's arithmetic are not raced by it.
    /// </summary>
    public string PageUrl(bool seenOnDisplay = false) => ApiAddress + (seenOnDisplay ? "" : "?seen=manual");

    public new async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        Http = App.CreateHttpClient("api", "http");
        _playwright = await Playwright.CreateAsync();
        _browser = await LaunchBrowserAsync();
    }

    /// <summary>
    /// A Chromium of its own (dispose it), for a test that must not see service worker registrations other
    /// contexts of the shared browser left behind (DevTools lists them across contexts).
    /// </summary>
    public Task<IBrowser> LaunchBrowserAsync() =>
        (_playwright ?? throw new InvalidOperationException("not started")).Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath(),
            Headless = true,
            // Playwright gives every launch a fresh temporary user-data-dir and removes it on close.
            Args = ChromiumArgs,
            Timeout = 60_000,
        });

    public new async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }
        _playwright?.Dispose();
        Http?.Dispose();
        await base.DisposeAsync();
    }

    /// <summary>Debian's Chromium, or the one <c>NOTIFY_CHROMIUM</c> names.</summary>
    public static string ChromiumPath()
    {
        var path = Environment.GetEnvironmentVariable("NOTIFY_CHROMIUM") is { Length: > 0 } configured ? configured : "/usr/bin/chromium";
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException("Chromium not found: install it with `apt-get install -y chromium` (test.sh does) or set NOTIFY_CHROMIUM.", path);
    }

    /// <summary>A user id no other test uses.</summary>
    public static string NewUser(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    /// <summary>The one URL both Realtime replicas are reached through (DCP's proxy).</summary>
    public Uri RealtimeAddress => App.GetEndpoint("realtime", "http");

    /// <summary>Stops a Realtime replica gracefully (SIGTERM: its clients get 1001 and reconnect through the same URL).</summary>
    public async Task StopRealtimeAsync(int replica)
    {
        var id = App.ReplicaIds("realtime")[replica];
        await App.ExecuteAsync(id, Aspire.Hosting.ApplicationModel.KnownResourceCommands.StopCommand, CancellationToken.None);
        await App.WaitForReplicaAsync("realtime", id, e => e.Snapshot.State?.Text is "Exited" or "Finished", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>Starts a stopped Realtime replica again and waits until it is healthy.</summary>
    public async Task StartRealtimeAsync(int replica)
    {
        var id = App.ReplicaIds("realtime")[replica];
        await App.ExecuteAsync(id, Aspire.Hosting.ApplicationModel.KnownResourceCommands.StartCommand, CancellationToken.None);
        await App.WaitForReplicaAsync("realtime", id, e => e.Snapshot.State?.Text == Aspire.Hosting.ApplicationModel.KnownResourceStates.Running && e.Snapshot.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy, CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(90));
    }

    /// <summary>A new browser context (own cookies and storage) and a page signed in as <paramref name="userId"/>, connected.</summary>
    public async Task<(IBrowserContext Context, IPage Page)> SignInAsync(string userId, bool admin = false, bool seenOnDisplay = false, IBrowser? browser = null)
    {
        var context = await (browser ?? Browser).NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 860 } });
        var page = await context.NewPageAsync();
        await page.GotoAsync(PageUrl(seenOnDisplay));
        await page.FillAsync("#signin-user", userId);
        await page.ClickAsync(admin ? "#signin-admin-btn" : "#signin-user-btn");
        await page.WaitForSelectorAsync("#conn[data-state=connected]", new PageWaitForSelectorOptions { Timeout = 20_000 });
        return (context, page);
    }

    /// <summary>A development token, as the page gets one.</summary>
    public async Task<string> TokenAsync(string userId, params string[] roles)
    {
        using var response = await Http.PostAsJsonAsync("/api/auth/dev-token", new { user_id = userId, roles }, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonObject>(TestContext.Current.CancellationToken);
        return body!["token"]!.GetValue<string>();
    }

    /// <summary>Calls the Api as <paramref name="userId"/> (or an admin with <paramref name="admin"/>); fails the test on an error status; returns the body.</summary>
    public async Task<JsonNode?> CallAsync(HttpMethod method, string path, object? body, string userId = "browser-tests-admin", bool admin = true)
    {
        var token = admin ? await TokenAsync(userId, "admin") : await TokenAsync(userId);
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await Http.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? null : JsonNode.Parse(text);
    }

    /// <summary>Creates a notification for <paramref name="userId"/> through the Api, as a service would; returns its id, or "" when the user's preference suppressed it.</summary>
    public async Task<string> NotifyAsync(string userId, string title, string content = "from the browser tests", string severity = "info", string type = "test")
    {
        var admin = await TokenAsync("browser-tests-admin", "admin");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/notifications")
        {
            Content = JsonContent.Create(new { user_id = userId, type, title, content, severity }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", admin);
        using var response = await Http.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"create notification: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!["id"]?.GetValue<string>() ?? "";
    }

    /// <summary>
    /// Whether the Realtime replicas let the page's origin (the Api) read their responses: SSE from
    /// the page and the admin statistics need it (WebSockets do not). Asked as a browser would, with a
    /// CORS preflight for an authorized GET.
    /// </summary>
    public async Task<bool> RealtimeAllowsPageOriginAsync()
    {
        using var realtime = App.CreateHttpClient("realtime", "http");
        using var request = new HttpRequestMessage(HttpMethod.Options, "/api/ws/stats");
        var origin = ApiAddress.GetLeftPart(UriPartial.Authority);
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "GET");
        request.Headers.Add("Access-Control-Request-Headers", "authorization");
        using var response = await realtime.SendAsync(request, TestContext.Current.CancellationToken);
        return response.Headers.TryGetValues("Access-Control-Allow-Origin", out var values)
            && values.Any(v => v == "*" || string.Equals(v, origin, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>What <c>GET /api/config</c> tells the page.</summary>
    public async Task<JsonObject> ClientConfigAsync() =>
        (await Http.GetFromJsonAsync<JsonObject>("/api/config", TestContext.Current.CancellationToken))!;
}

/// <summary>Browser tests share one system and run one after another (2 cores; one Chromium).</summary>
[CollectionDefinition(nameof(BrowserCollection))]
public sealed class BrowserCollection : ICollectionFixture<BrowserSystem>;
