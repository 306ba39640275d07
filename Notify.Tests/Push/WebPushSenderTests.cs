using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Notify.Core.Notifications;
using Notify.Core.Push;
using Notify.Core.Storage;
using Notify.Core.Storage.Sqlite;
using Notify.Tests.Infrastructure;
using Notify.Worker.Push;

namespace Notify.Tests.Push;

/// <summary>
/// <see cref="WebPushSender"/> against a local push service that verifies VAPID and decrypts RFC 8291:
/// content arrives intact, 404/410 delete the subscription, 5xx/429 are retried with backoff up to the limit.
/// </summary>
public sealed class WebPushSenderTests : IAsyncLifetime, IAsyncDisposable
{
    private const string Subject = "mailto:ops@notify.test";
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"notify-webpush-{Guid.NewGuid():N}.db");
    private SqliteDatabase _database = null!;
    private LocalPushService _push = null!;

    internal IPushSubscriptionStore Store { get; private set; } = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _database = new SqliteDatabase(_path, TimeSpan.FromSeconds(10), 4, SqliteSynchronousMode.Normal);
        Store = new SqlitePushSubscriptionStore(_database);
        await Store.InitializeAsync(Ct);
        _push = await LocalPushService.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _push.DisposeAsync();
        _database.Dispose();
        TestEnvironment.DeleteSqliteFiles(_path);
    }

    internal (string Public, string Private) Vapid => _push.Vapid;

    internal WebPushSender Sender(int maxAttempts = 4, int initialBackoffMs = 100) => new(
        Store,
        Microsoft.Extensions.Options.Options.Create(new PushOptions
        {
            VapidPublicKey = _push.Vapid.Public,
            VapidPrivateKey = _push.Vapid.Private,
            Subject = Subject,
            MaxAttempts = maxAttempts,
            InitialBackoff = TimeSpan.FromMilliseconds(initialBackoffMs),
            MaxBackoff = TimeSpan.FromSeconds(2),
            MessageTtl = TimeSpan.FromMinutes(10),
        }),
        TimeProvider.System,
        NullLogger<WebPushSender>.Instance);

    internal async Task<LocalPushService.Browser> SubscribeAsync(string user, params int[] answers)
    {
        var browser = _push.NewBrowser(answers);
        await Store.SaveAsync(new PushSubscription
        {
            Id = PushSubscription.IdOf(browser.Endpoint),
            UserId = user,
            Endpoint = browser.Endpoint,
            P256dh = browser.P256dh,
            Auth = browser.Auth,
            CreatedAt = TimeProvider.System.GetUtcNow(),
        }, 10, Ct);
        return browser;
    }

    private static Notification NewNotification(string user, string title = "Build finished", string content = "All 212 tests passed.") => new()
    {
        Id = Guid.NewGuid().ToString("N"),
        UserId = user,
        Type = "build",
        Title = title,
        Content = content,
        CreatedAt = TimeProvider.System.GetUtcNow(),
    };

    [Fact]
    public async Task Send_VapidSignedAndEncrypted_PushServiceDecryptsTheNotification()
    {
        var browser = await SubscribeAsync("ann");
        var other = await SubscribeAsync("bob");
        var notification = NewNotification("ann", "Build finished ✓", "All 212 tests passed.");
        using var sender = Sender();

        var delivered = await sender.SendAsync(notification, Ct);

        var request = Assert.Single(browser.Requests);
        Assert.Null(request.Error);
        Assert.Equal(1, delivered);
        Assert.Equal(Subject, request.Subject);
        Assert.Equal(600, request.Ttl);
        using var payload = JsonDocument.Parse(request.Payload!);
        Assert.Equal(notification.Id, payload.RootElement.GetProperty("id").GetString());
        Assert.Equal("build", payload.RootElement.GetProperty("type").GetString());
        Assert.Equal("Build finished ✓", payload.RootElement.GetProperty("title").GetString());
        Assert.Equal("All 212 tests passed.", payload.RootElement.GetProperty("body").GetString());
        Assert.Equal("/", payload.RootElement.GetProperty("url").GetString());
        Assert.Empty(other.Requests);
    }

    [Fact]
    public async Task Send_LongContent_CutToTheLimitAndStillDecrypts()
    {
        var browser = await SubscribeAsync("ann");
        using var sender = Sender();

        await sender.SendAsync(NewNotification("ann", new string('t', 5000), new string('c', 5000)), Ct);

        using var payload = JsonDocument.Parse(Assert.Single(browser.Requests).Payload!);
        Assert.Equal(WebPushSender.MaxTextLength, payload.RootElement.GetProperty("title").GetString()!.Length);
        Assert.Equal(WebPushSender.MaxTextLength, payload.RootElement.GetProperty("body").GetString()!.Length);
    }

    [Theory]
    [InlineData(404)]
    [InlineData(410)]
    public async Task Send_PushServiceSaysGone_SubscriptionDeletedNotRetried(int status)
    {
        var gone = await SubscribeAsync("ann", status);
        var kept = await SubscribeAsync("ann");
        using var sender = Sender();

        Assert.Equal(1, await sender.SendAsync(NewNotification("ann"), Ct));

        Assert.Single(gone.Requests);
        Assert.Equal([kept.Endpoint], (await Store.ListAsync("ann", Ct)).Select(s => s.Endpoint));
    }

    [Fact]
    public async Task Send_ServerErrorThenTooManyRequests_RetriedWithBackoffThenDelivered()
    {
        var browser = await SubscribeAsync("ann", 503, 429);
        using var sender = Sender(initialBackoffMs: 200);

        Assert.Equal(1, await sender.SendAsync(NewNotification("ann"), Ct));

        var requests = browser.Requests.ToArray();
        Assert.Equal(3, requests.Length);
        Assert.All(requests, r => Assert.Null(r.Error));
        // 503: the exponential 200 ms; 429 with Retry-After: 1 s wins over the exponential 400 ms.
        Assert.True(requests[1].At - requests[0].At >= TimeSpan.FromMilliseconds(190), $"first gap {requests[1].At - requests[0].At}");
        Assert.True(requests[2].At - requests[1].At >= TimeSpan.FromMilliseconds(990), $"second gap {requests[2].At - requests[1].At}");
        Assert.Single(await Store.ListAsync("ann", Ct));
    }

    [Fact]
    public async Task Send_AlwaysFailing_GivesUpAfterMaxAttemptsKeepsSubscription()
    {
        var browser = await SubscribeAsync("ann", 500, 502, 503, 504);
        using var sender = Sender(maxAttempts: 3, initialBackoffMs: 20);

        Assert.Equal(0, await sender.SendAsync(NewNotification("ann"), Ct));

        Assert.Equal(3, browser.Requests.Count);
        Assert.Single(await Store.ListAsync("ann", Ct));
    }

    [Theory]
    [InlineData(1, 100, 100)]
    [InlineData(2, 100, 200)]
    [InlineData(3, 100, 400)]
    [InlineData(10, 100, 2000)]
    public void Backoff_DoublesPerAttempt_CappedByMaxBackoff(int attempt, int initialMs, int expectedMs)
    {
        using var sender = Sender(initialBackoffMs: initialMs);

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), sender.Backoff(attempt, retryAfter: null));
        Assert.Equal(TimeSpan.FromSeconds(2), sender.Backoff(1, retryAfter: TimeSpan.FromMinutes(5)));
    }
}
