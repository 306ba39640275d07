using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Notify.Tests.Browser;

/// <summary>The page's connection: replica failover with no loss, and the fallback from WebSocket to SSE.</summary>
[Collection(nameof(BrowserCollection))]
public sealed class ConnectionPageTests(BrowserSystem system)
{
    [Fact]
    public async Task Connection_RealtimeReplicaStopped_ReconnectsThroughTheSameUrlAndShowsWhatWasSentMeanwhile()
    {
        var user = BrowserSystem.NewUser("failover");
        var (context, page) = await system.SignInAsync(user);
        await using var _ = context;
        Assert.Equal(system.RealtimeAddress.Port, new Uri((await page.GetAttributeAsync("#conn", "data-url"))!).Port);
        var before = await system.NotifyAsync(user, "before the stops");
        await Expect(page.Locator($"li.item[data-id='{before}']")).ToBeVisibleAsync();

        // Behind the one URL the page may be on either replica: with replica 0 stopped it is on replica 1 for sure,
        // so stopping replica 1 next moves it, through the same URL, to replica 0.
        await system.StopRealtimeAsync(0);
        var stopped = 0;
        try
        {
            await Expect(page.Locator("#conn")).ToHaveAttributeAsync("data-state", "connected", new() { Timeout = 20_000 });
            await system.StartRealtimeAsync(0);
            stopped = 1;
            await system.StopRealtimeAsync(1);
            // Sent while the page has no connection, or while it is moving: either way it must arrive once.
            var meanwhile = await system.NotifyAsync(user, "sent meanwhile");

            await Expect(page.Locator("#conn")).ToHaveAttributeAsync("data-state", "connected", new() { Timeout = 20_000 });
            Assert.Equal(system.RealtimeAddress.Port, new Uri((await page.GetAttributeAsync("#conn", "data-url"))!).Port);
            await Expect(page.Locator($"li.item[data-id='{meanwhile}']")).ToHaveCountAsync(1, new() { Timeout = 15_000 });
            await Expect(page.Locator($"li.item[data-id='{before}']")).ToHaveCountAsync(1);
            await Expect(page.Locator("#badge")).ToHaveAttributeAsync("data-count", "2", new() { Timeout = 10_000 });

            var after = await system.NotifyAsync(user, "after the move");
            await Expect(page.Locator($"li.item[data-id='{after}']")).ToBeVisibleAsync(new() { Timeout = 5_000 });
        }
        finally
        {
            await system.StartRealtimeAsync(stopped);
        }
    }

    [Fact]
    public async Task Connection_WebSocketsBlocked_FallsBackToSseAndStillReceives()
    {
        Assert.SkipUnless(await system.RealtimeAllowsPageOriginAsync(),
            "The Realtime service does not allow the web UI's origin (Cors:Origins), so a browser cannot read its SSE stream.");
        var user = BrowserSystem.NewUser("sse");
        var context = await system.Browser.NewContextAsync();
        await using var _ = context;
        var page = await context.NewPageAsync();
        // A proxy that refuses WebSockets: every upgrade is closed before the server is reached.
        var blocked = 0;
        await page.RouteWebSocketAsync("**/api/ws/**", ws =>
        {
            Interlocked.Increment(ref blocked);
            ws.CloseAsync(new() { Code = 1011, Reason = "blocked by the test" });
        });
        await page.GotoAsync(system.PageUrl());
        await page.FillAsync("#signin-user", user);
        await page.ClickAsync("#signin-user-btn");

        await page.WaitForSelectorAsync("#conn[data-transport=sse][data-state=connected]", new() { Timeout = 20_000 });
        Assert.True(blocked >= 2, $"WebSocket attempts before the fallback: {blocked}");

        var id = await system.NotifyAsync(user, "over SSE");
        await Expect(page.Locator($"li.item[data-id='{id}']")).ToBeVisibleAsync(new() { Timeout = 2_000 });
        await Expect(page.Locator("#badge")).ToHaveAttributeAsync("data-count", "1", new() { Timeout = 2_000 });
        await Expect(page.Locator("#conn")).ToHaveAttributeAsync("data-transport", "sse");
    }
}
