using System.Diagnostics;
using System.Text.Json;
using Microsoft.Playwright;

namespace Notify.Tests.Browser;

/// <summary>
/// The web UI's service worker in headless Chromium: a push event (delivered through the DevTools protocol,
/// as no real push service is reachable) is shown as a system notification with the pushed title and body,
/// and a click on it (a <c>notificationclick</c> event dispatched in the worker: headless Chromium has no
/// notification to click) brings the open tab to the inbox.
/// </summary>
[Collection(nameof(BrowserCollection))]
public sealed class PushServiceWorkerTests(BrowserSystem system)
{
    [Fact]
    public async Task PushEvent_ServiceWorkerShowsTheNotification_ClickOpensTheInbox()
    {
        await using var browser = await system.LaunchBrowserAsync();
        var (context, page) = await system.SignInAsync(BrowserSystem.NewUser("sw"), admin: true, browser: browser);
        await using var _ = context;
        var origin = system.ApiAddress.GetLeftPart(UriPartial.Authority);
        await context.GrantPermissionsAsync(["notifications"], new BrowserContextGrantPermissionsOptions { Origin = origin });
        Assert.True(await page.EvaluateAsync<bool>("() => navigator.serviceWorker.ready.then(r => !!r.active)"));

        var cdp = await context.NewCDPSessionAsync(page);
        // Registrations of earlier tests' contexts (same origin) are listed too: take the one whose running
        // version is this context's service worker target.
        var workerTarget = await ServiceWorkerTargetAsync(browser, cdp, origin);
        var registrationId = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        cdp.Event("ServiceWorker.workerVersionUpdated").OnEvent += (_, e) =>
        {
            foreach (var version in e!.Value.GetProperty("versions").EnumerateArray())
            {
                // An activated version only: a push delivered to one still installing is not handled.
                if (version.TryGetProperty("targetId", out var target) && target.GetString() == workerTarget
                    && version.TryGetProperty("status", out var status) && status.GetString() == "activated")
                {
                    registrationId.TrySetResult(version.GetProperty("registrationId").GetString()!);
                }
            }
        };
        await cdp.SendAsync("ServiceWorker.enable");
        var id = await registrationId.Task.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);

        var payload = JsonSerializer.Serialize(new { id = "01PUSHTEST", type = "build", title = "Pushed while closed", body = "from the push service", url = "/" });
        var push = new Dictionary<string, object> { ["origin"] = origin, ["registrationId"] = id, ["data"] = payload };
        await cdp.SendAsync("ServiceWorker.deliverPushMessage", push);

        // Delivered again while none is shown (a loaded browser may drop the first to a worker still
        // starting): the notification's tag makes a second one replace the first, so one is shown either way.
        var watch = Stopwatch.StartNew();
        var delivered = watch.Elapsed;
        while (true)
        {
            var shown = await page.EvaluateAsync<string[]>(
                "async () => (await (await navigator.serviceWorker.ready).getNotifications()).map(n => n.title + '|' + n.body + '|' + n.tag)");
            if (shown.Length > 0)
            {
                Assert.Equal(["Pushed while closed|from the push service|01PUSHTEST"], shown);
                break;
            }
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), "no notification shown");
            if (watch.Elapsed - delivered > TimeSpan.FromSeconds(3))
            {
                await cdp.SendAsync("ServiceWorker.deliverPushMessage", push);
                delivered = watch.Elapsed;
            }
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    
        // The tab shows another view (admin) when the notification is clicked.
        await page.ClickAsync("#nav-admin");
        await Microsoft.Playwright.Assertions.Expect(page.Locator("#view-inbox")).ToBeHiddenAsync();
        await InServiceWorkerAsync(browser, cdp, origin, """
            (async () => {
              const [notification] = await self.registration.getNotifications();
              self.dispatchEvent(new NotificationEvent("notificationclick", { notification }));
              return "clicked";
            })()
            """);

        await Microsoft.Playwright.Assertions.Expect(page.Locator("#view-inbox")).ToBeVisibleAsync(new() { Timeout = 10_000 });
        Assert.EndsWith("#/", page.Url, StringComparison.Ordinal);
        Assert.True(await page.EvaluateAsync<bool>("() => document.hasFocus()"));
        // The click closed the notification.
        Assert.Empty(await page.EvaluateAsync<string[]>(
            "async () => (await (await navigator.serviceWorker.ready).getNotifications()).map(n => n.tag)"));
    }

    /// <summary>The target id of this page's (this browser context's) service worker.</summary>
    private static async Task<string> ServiceWorkerTargetAsync(IBrowser chromium, ICDPSession page, string origin)
    {
        var info = await page.SendAsync("Target.getTargetInfo");
        var contextId = info!.Value.GetProperty("targetInfo").GetProperty("browserContextId").GetString();
        var browser = await chromium.NewBrowserCDPSessionAsync();
        try
        {
            var targets = await browser.SendAsync("Target.getTargets");
            return targets!.Value.GetProperty("targetInfos").EnumerateArray().First(t =>
                t.GetProperty("type").GetString() == "service_worker"
                && t.GetProperty("browserContextId").GetString() == contextId
                && t.GetProperty("url").GetString()!.StartsWith(origin, StringComparison.Ordinal)).GetProperty("targetId").GetString()!;
        }
        finally
        {
            await browser.DetachAsync();
        }
    }

    /// <summary>Evaluates <paramref name="expression"/> (awaited) in this page's service worker, through the browser's DevTools target API.</summary>
    private static async Task InServiceWorkerAsync(IBrowser chromium, ICDPSession page, string origin, string expression)
    {
        var targetId = await ServiceWorkerTargetAsync(chromium, page, origin);
        var browser = await chromium.NewBrowserCDPSessionAsync();
        var attached = await browser.SendAsync("Target.attachToTarget", new Dictionary<string, object>
        {
            ["targetId"] = targetId,
            ["flatten"] = false,
        });
        var sessionId = attached!.Value.GetProperty("sessionId").GetString()!;
        var reply = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        browser.Event("Target.receivedMessageFromTarget").OnEvent += (_, e) =>
        {
            if (e!.Value.GetProperty("sessionId").GetString() != sessionId)
            {
                return;
            }
            using var message = JsonDocument.Parse(e.Value.GetProperty("message").GetString()!);
            if (message.RootElement.TryGetProperty("id", out var id) && id.GetInt32() == 1)
            {
                reply.TrySetResult(message.RootElement.Clone());
            }
        };
        await browser.SendAsync("Target.sendMessageToTarget", new Dictionary<string, object>
        {
            ["sessionId"] = sessionId,
            ["message"] = JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["id"] = 1,
                ["method"] = "Runtime.evaluate",
                ["params"] = new Dictionary<string, object> { ["expression"] = expression, ["awaitPromise"] = true, ["returnByValue"] = true },
            }),
        });
        var result = await reply.Task.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
        Assert.False(result.GetProperty("result").TryGetProperty("exceptionDetails", out var error), error.ToString());
        await browser.DetachAsync();
    }
}
