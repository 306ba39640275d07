using System.Diagnostics;
using System.Text.Json;
using Microsoft.Playwright;

namespace Notify.Tests.Browser;

/// <summary>
/// The web UI's service worker in headless Chromium: a push event (delivered through the DevTools protocol,
/// as no real push service is reachable) is shown as a system notification with the pushed title and body.
/// </summary>
[Collection(nameof(BrowserCollection))]
public sealed class PushServiceWorkerTests(BrowserSystem system)
{
    [Fact]
    public async Task PushEvent_ServiceWorkerShowsTheNotification()
    {
        var (context, page) = await system.SignInAsync(BrowserSystem.NewUser("sw"));
        await using var _ = context;
        var origin = system.ApiAddress.GetLeftPart(UriPartial.Authority);
        await context.GrantPermissionsAsync(["notifications"], new BrowserContextGrantPermissionsOptions { Origin = origin });
        Assert.True(await page.EvaluateAsync<bool>("() => navigator.serviceWorker.ready.then(r => !!r.active)"));

        var cdp = await context.NewCDPSessionAsync(page);
        var registrationId = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        cdp.Event("ServiceWorker.workerRegistrationUpdated").OnEvent += (_, e) =>
        {
            foreach (var registration in e!.Value.GetProperty("registrations").EnumerateArray())
            {
                if (registration.GetProperty("scopeURL").GetString()!.StartsWith(origin, StringComparison.Ordinal)
                    && !registration.GetProperty("isDeleted").GetBoolean())
                {
                    registrationId.TrySetResult(registration.GetProperty("registrationId").GetString()!);
                }
            }
        };
        await cdp.SendAsync("ServiceWorker.enable");
        var id = await registrationId.Task.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);

        var payload = JsonSerializer.Serialize(new { id = "01PUSHTEST", type = "build", title = "Pushed while closed", body = "from the push service", url = "/" });
        await cdp.SendAsync("ServiceWorker.deliverPushMessage", new Dictionary<string, object> { ["origin"] = origin, ["registrationId"] = id, ["data"] = payload });

        var watch = Stopwatch.StartNew();
        while (true)
        {
            var shown = await page.EvaluateAsync<string[]>(
                "async () => (await (await navigator.serviceWorker.ready).getNotifications()).map(n => n.title + '|' + n.body + '|' + n.tag)");
            if (shown.Length > 0)
            {
                Assert.Equal(["Pushed while closed|from the push service|01PUSHTEST"], shown);
                return;
            }
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), "no notification shown");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }
}
