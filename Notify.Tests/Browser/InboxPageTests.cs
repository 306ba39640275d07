using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Notify.Tests.Browser;

/// <summary>The web UI in headless Chromium against the running system: sign-in, live inbox, badge, tabs.</summary>
[Collection(nameof(BrowserCollection))]
public sealed class InboxPageTests(BrowserSystem system)
{
    private static readonly LocatorAssertionsToHaveAttributeOptions Within10s = new() { Timeout = 10_000 };

    [Fact]
    public async Task SignIn_DemoUser_ShowsInboxConnectedOverWebSocket()
    {
        var user = BrowserSystem.NewUser("signin");
        var (context, page) = await system.SignInAsync(user);
        await using var _ = context;

        await Expect(page.Locator("#who")).ToHaveTextAsync(user);
        await Expect(page.Locator("#conn")).ToHaveAttributeAsync("data-transport", "websocket");
        await Expect(page.Locator("#view-inbox")).ToBeVisibleAsync();
        await Expect(page.Locator("#nav-admin")).ToBeHiddenAsync();
    }

    [Fact]
    public async Task Inbox_NotificationCreatedThroughApi_ShowsLiveInBadgeListAndToast()
    {
        // Delivery latency is measured by the realtime benchmark (bench/), not asserted here: the toast,
        // shown only for a frame pushed over the open stream, says the item came live and not from a reload.
        var user = BrowserSystem.NewUser("live");
        var (context, page) = await system.SignInAsync(user);
        await using var _ = context;

        var id = await system.NotifyAsync(user, "Build finished");
        await Expect(page.Locator($"li.item[data-id='{id}']")).ToHaveAttributeAsync("data-status", "unread");
        await Expect(page.Locator("#badge")).ToHaveAttributeAsync("data-count", "1");
        await Expect(page.Locator($"li.item[data-id='{id}'] .title")).ToHaveTextAsync("Build finished");
        await Expect(page.Locator(".toast")).ToContainTextAsync("Build finished");
    }

    [Fact]
    public async Task Inbox_MarkReadInOneTab_UpdatesBadgeInSecondTab()
    {
        var user = BrowserSystem.NewUser("tabs");
        var first = await system.NotifyAsync(user, "first");
        await system.NotifyAsync(user, "second");
        var (context, page) = await system.SignInAsync(user);
        await using var _ = context;
        var second = await context.NewPageAsync();
        await second.GotoAsync(system.PageUrl());
        await second.WaitForSelectorAsync("#conn[data-state=connected]", new() { Timeout = 20_000 });
        await Expect(page.Locator("#badge")).ToHaveAttributeAsync("data-count", "2", Within10s);
        await Expect(second.Locator("#badge")).ToHaveAttributeAsync("data-count", "2", Within10s);

        await page.Locator($"li.item[data-id='{first}'] button.mark-read").ClickAsync();

        await Expect(page.Locator("#badge")).ToHaveAttributeAsync("data-count", "1", Within10s);
        await Expect(second.Locator("#badge")).ToHaveAttributeAsync("data-count", "1", new() { Timeout = 2_000 });
        await Expect(second.Locator($"li.item[data-id='{first}']")).ToHaveAttributeAsync("data-status", "read", new() { Timeout = 2_000 });
    }

    [Fact]
    public async Task Inbox_MarkAllReadAndDelete_ClearBadgeAndRemoveItem()
    {
        var user = BrowserSystem.NewUser("bulk");
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await system.NotifyAsync(user, $"n{i}"));
        }
        var (context, page) = await system.SignInAsync(user);
        await using var _ = context;
        await Expect(page.Locator("#badge")).ToHaveAttributeAsync("data-count", "3", Within10s);

        await page.ClickAsync("#mark-all");
        await Expect(page.Locator("#badge")).ToHaveAttributeAsync("data-count", "0", Within10s);
        await Expect(page.Locator("li.item[data-status=unread]")).ToHaveCountAsync(0);

        await page.Locator($"li.item[data-id='{ids[0]}'] button.delete").ClickAsync();
        await Expect(page.Locator($"li.item[data-id='{ids[0]}']")).ToHaveCountAsync(0);
        await page.ReloadAsync();
        await Expect(page.Locator("li.item")).ToHaveCountAsync(2);
    }

    [Fact]
    public async Task Inbox_ManyNotifications_LoadsOlderPagesOnScroll()
    {
        var user = BrowserSystem.NewUser("scroll");
        for (var i = 0; i < 45; i++)
        {
            await system.NotifyAsync(user, $"item {i:D2}");
        }
        var (context, page) = await system.SignInAsync(user);
        await using var _ = context;
        await Expect(page.Locator("li.item").First).ToBeVisibleAsync();

        var items = page.Locator("li.item");
        for (var round = 0; round < 5 && await items.CountAsync() < 45; round++)
        {
            var before = await items.CountAsync();
            await page.EvalOnSelectorAsync("#inbox-list", "list => list.scrollTop = list.scrollHeight");
            await Expect(items).Not.ToHaveCountAsync(before, new() { Timeout = 5_000 });
        }
        await Expect(page.Locator("li.item")).ToHaveCountAsync(45);
        await Expect(page.Locator("li.item").Last.Locator(".title")).ToHaveTextAsync("item 00");
    }
}
