using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Notify.Tests.Browser;

/// <summary>Preferences, archive and snooze in the web UI, in headless Chromium against the running system.</summary>
[Collection(nameof(BrowserCollection))]
public sealed class InboxActionsPageTests(BrowserSystem system)
{
    private static readonly LocatorAssertionsToHaveCountOptions CountWithin10s = new() { Timeout = 10_000 };
    private static readonly LocatorAssertionsToHaveTextOptions TextWithin10s = new() { Timeout = 10_000 };

    [Fact]
    public async Task Preferences_SetTypeOffAndSave_CreateOfThatTypeNeverShows_OtherTypeDoes()
    {
        var user = BrowserSystem.NewUser("prefs");
        var (context, page) = await system.SignInAsync(user);
        await using var _ = context;
        await Expect(page.Locator("#pref-status")).ToHaveTextAsync("Everything live (nothing chosen)", TextWithin10s);

        await page.FillAsync("#pref-type", "marketing");
        await page.SelectOptionAsync("#pref-mode", "off");
        await page.ClickAsync("#pref-add");
        await page.ClickAsync("#pref-save");
        // "Saved (version 1)", or "Version 1" when this tab's own preferences frame arrived before the answer.
        await Expect(page.Locator("#pref-status")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("[Vv]ersion 1\\b"), TextWithin10s);
        await Expect(page.Locator("#pref-list li[data-type=marketing]")).ToHaveAttributeAsync("data-mode", "off");

        await system.NotifyAsync(user, "Big sale", type: "marketing");
        var shown = await system.NotifyAsync(user, "Invoice ready", type: "billing");

        await Expect(page.Locator($"li.item[data-id='{shown}']")).ToHaveCountAsync(1, CountWithin10s);
        await Expect(page.Locator("li.item")).ToHaveCountAsync(1);
        await Expect(page.Locator("li.item .title")).ToHaveTextAsync("Invoice ready");
    }

    [Fact]
    public async Task ArchiveAndSnooze_LeaveTheInbox_ShowInTheirViews_OtherTabFollows()
    {
        var user = BrowserSystem.NewUser("archive");
        var archived = await system.NotifyAsync(user, "file me");
        var snoozed = await system.NotifyAsync(user, "later");
        var kept = await system.NotifyAsync(user, "keep");
        var (context, page) = await system.SignInAsync(user);
        await using var _ = context;
        var second = await context.NewPageAsync();
        await second.GotoAsync(system.PageUrl());
        await second.WaitForSelectorAsync("#conn[data-state=connected]", new() { Timeout = 20_000 });
        await Expect(second.Locator("li.item")).ToHaveCountAsync(3, CountWithin10s);
        await Expect(page.Locator("li.item")).ToHaveCountAsync(3, CountWithin10s);

        await page.Locator($"li.item[data-id='{archived}'] button.archive").ClickAsync();
        await page.Locator($"li.item[data-id='{snoozed}'] button.snooze").ClickAsync();

        await Expect(page.Locator("li.item")).ToHaveCountAsync(1, CountWithin10s);
        await Expect(page.Locator($"li.item[data-id='{kept}']")).ToHaveCountAsync(1);
        await Expect(second.Locator("li.item")).ToHaveCountAsync(1, CountWithin10s);
        Directory.CreateDirectory(BrowserSystem.ScreenshotDirectory);
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserSystem.ScreenshotDirectory, "inbox-preferences.png"), FullPage = true });

        await page.SelectOptionAsync("#filter-view", "archived");
        await Expect(page.Locator("li.item")).ToHaveCountAsync(1, CountWithin10s);
        await Expect(page.Locator($"li.item[data-id='{archived}'] button.unarchive")).ToHaveCountAsync(1);
        await page.SelectOptionAsync("#filter-view", "snoozed");
        await Expect(page.Locator($"li.item[data-id='{snoozed}'] button.unsnooze")).ToHaveCountAsync(1, CountWithin10s);
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserSystem.ScreenshotDirectory, "archive-snooze.png") });

        await page.Locator($"li.item[data-id='{snoozed}'] button.unsnooze").ClickAsync();
        await page.SelectOptionAsync("#filter-view", "");
        await Expect(page.Locator("li.item")).ToHaveCountAsync(2, CountWithin10s);
        await Expect(second.Locator("li.item")).ToHaveCountAsync(2, CountWithin10s);
    }
}
