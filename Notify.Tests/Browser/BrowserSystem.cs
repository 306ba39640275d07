using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Notify.Tests.Infrastructure;

namespace Notify.Tests.Browser;

/// <summary>
/// The whole system for browser tests: Redis, two Realtime replicas, the Worker and the Api (which
/// serves the web UI), each a real process on its own port, plus a headless Chromium driven by
/// Playwright. The browser is Debian's <c>/usr/bin/chromium</c> (or <c>NOTIFY_CHROMIUM</c>); no browser
/// is ever downloaded. Shared by the tests of <see cref="BrowserCollection"/>; every test uses its
/// own user ids and its own browser context.
/// </summary>
public sealed class BrowserSystem : IAsyncLifetime
{
    private static readonly string[] ChromiumArgs =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
    ];

    private readonly RedisServer _redis = new();
    private readonly string _sqlitePath = Path.Combine(Path.GetTempPath(), $"notify-browser-{Guid.NewGuid():N}.db");
    private readonly int[] _realtimePorts = [RedisServer.FreePort(), RedisServer.FreePort()];
    private readonly int _apiPort = RedisServer.FreePort();
    private readonly int _workerPort = RedisServer.FreePort();
    private readonly ServiceProcess?[] _realtime = new ServiceProcess?[2];
    private ServiceProcess? _api;
    private ServiceProcess? _worker;
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public Uri ApiAddress => new($"http://127.0.0.1:{_apiPort}");

    public IReadOnlyList<Uri> RealtimeAddresses => _realtimePorts.Select(p => new Uri($"http://127.0.0.1:{p}")).ToArray();

    public HttpClient Http { get; private set; } = null!;

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("not started");

    /// <summary>Where screenshots go: TestResults/screenshots under the repository root.</summary>
    public static string ScreenshotDirectory { get; } = Path.Combine(ServiceProcess.RepositoryRoot, "TestResults", "screenshots");

    public async ValueTask InitializeAsync()
    {
        await _redis.InitializeAsync();
        var cancellationToken = TestContext.Current.CancellationToken;
        var starts = new List<Task<ServiceProcess>>();
        for (var i = 0; i < _realtime.Length; i++)
        {
            starts.Add(ServiceProcess.StartAsync("Notify.Realtime", Environment(), TimeSpan.FromSeconds(60), _realtimePorts[i]));
        }
        starts.Add(ServiceProcess.StartAsync("Notify.Worker", Environment(), TimeSpan.FromSeconds(60), _workerPort));
        starts.Add(ServiceProcess.StartAsync("Notify.Api", Environment(), TimeSpan.FromSeconds(60), _apiPort));
        try
        {
            await Task.WhenAll(starts);
        }
        finally
        {
            // Whatever started is recorded so DisposeAsync stops it, even when another failed.
            for (var i = 0; i < _realtime.Length; i++)
            {
                _realtime[i] = starts[i].IsCompletedSuccessfully ? starts[i].Result : null;
            }
            _worker = starts[^2].IsCompletedSuccessfully ? starts[^2].Result : null;
            _api = starts[^1].IsCompletedSuccessfully ? starts[^1].Result : null;
        }
        Http = new HttpClient { BaseAddress = ApiAddress, Timeout = TimeSpan.FromSeconds(30) };

        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath(),
            Headless = true,
            // Playwright gives every launch a fresh temporary user-data-dir and removes it on close.
            Args = ChromiumArgs,
            Timeout = 60_000,
        });
        cancellationToken.ThrowIfCancellationRequested();
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }
        _playwright?.Dispose();
        Http?.Dispose();
        foreach (var service in _realtime.Append(_worker).Append(_api))
        {
            if (service is not null)
            {
                await service.DisposeAsync();
            }
        }
        await _redis.DisposeAsync();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            try { File.Delete(_sqlitePath + suffix); } catch (IOException) { }
        }
    }

    /// <summary>Debian's Chromium, or the one <c>NOTIFY_CHROMIUM</c> names.</summary>
    public static string ChromiumPath()
    {
        var path = System.Environment.GetEnvironmentVariable("NOTIFY_CHROMIUM") is { Length: > 0 } configured ? configured : "/usr/bin/chromium";
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException("Chromium not found: install it with `apt-get install -y chromium` (test.sh does) or set NOTIFY_CHROMIUM.", path);
    }

    /// <summary>A user id no other test uses.</summary>
    public static string NewUser(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    /// <summary>Which replica a URL the page reports belongs to (0 or 1), or -1.</summary>
    public int ReplicaOf(string? url) =>
        Array.FindIndex(_realtimePorts, p => url is not null && url.TrimEnd('/').EndsWith($":{p}", StringComparison.Ordinal));

    /// <summary>Stops replica <paramref name="index"/> gracefully (SIGTERM: its clients get 1001 and move).</summary>
    public async Task StopRealtimeAsync(int index)
    {
        var service = _realtime[index] ?? throw new InvalidOperationException($"replica {index} is not running");
        await service.StopAsync(TimeSpan.FromSeconds(20));
        await service.DisposeAsync();
        _realtime[index] = null;
    }

    /// <summary>Starts replica <paramref name="index"/> again on its port (a no-op when it runs).</summary>
    public async Task StartRealtimeAsync(int index)
    {
        if (_realtime[index] is { HasExited: false })
        {
            return;
        }
        _realtime[index] = await ServiceProcess.StartAsync("Notify.Realtime", Environment(), TimeSpan.FromSeconds(60), _realtimePorts[index]);
    }

    /// <summary>A new browser context (own cookies and storage) and a page signed in as <paramref name="userId"/>, connected.</summary>
    public async Task<(IBrowserContext Context, IPage Page)> SignInAsync(string userId, bool admin = false, string query = "")
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 860 } });
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(ApiAddress, "/" + query).ToString());
        await page.FillAsync("#signin-user", userId);
        await page.ClickAsync(admin ? "#signin-admin-btn" : "#signin-user-btn");
        await page.WaitForSelectorAsync("#conn[data-state=connected]", new PageWaitForSelectorOptions { Timeout = 20_000 });
        return (context, page);
    }

    /// <summary>An admin token for calls made by the test itself (the "other service").</summary>
    public async Task<string> TokenAsync(string userId, params string[] roles)
    {
        using var response = await Http.PostAsJsonAsync("/api/auth/dev-token", new { user_id = userId, roles }, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonObject>(TestContext.Current.CancellationToken);
        return body!["token"]!.GetValue<string>();
    }

    /// <summary>Creates a notification for <paramref name="userId"/> through the Api, as a service would; returns its id.</summary>
    public async Task<string> NotifyAsync(string userId, string title, string content = "from the browser tests")
    {
        var admin = await TokenAsync("browser-tests-admin", "admin");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/notifications")
        {
            Content = JsonContent.Create(new { user_id = userId, type = "test", title, content, severity = "info" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", admin);
        using var response = await Http.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"create notification: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!["id"]!.GetValue<string>();
    }

    /// <summary>Logs of every service, for failure messages.</summary>
    public string Logs() => string.Join("\n\n", _realtime.Append(_worker).Append(_api)
        .Where(s => s is not null).Select(s => $"== {s!.Name}:{s.Port}\n{s.RecentLog}"));

    private Dictionary<string, string?> Environment()
    {
        var env = new Dictionary<string, string?>(TestEnvironment.For(_redis, _sqlitePath))
        {
            // What an AppHost gives every service: where the others are.
            ["services__api__http__0"] = ApiAddress.ToString().TrimEnd('/'),
            ["services__worker__http__0"] = $"http://127.0.0.1:{_workerPort}",
            // The page is served by the Api; the Realtime replicas and the Worker accept it cross-origin.
            ["Cors__Origins__0"] = ApiAddress.ToString().TrimEnd('/'),
            ["Logging__LogLevel__Default"] = "Warning",
        };
        for (var i = 0; i < _realtimePorts.Length; i++)
        {
            env[$"services__realtime__http__{i}"] = $"http://127.0.0.1:{_realtimePorts[i]}";
        }
        return env;
    }
}

/// <summary>Browser tests share one system and run one after another (2 cores; one Chromium).</summary>
[CollectionDefinition(nameof(BrowserCollection))]
public sealed class BrowserCollection : ICollectionFixture<BrowserSystem>;
