using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Notify.Tests.Browser;

/// <summary>
/// The unseen badge, seen-on-display across tabs, bulk actions and broadcast toasts under preferences, in
/// headless Chromium against the running system. Writes the web UI screenshots docs/web-ui.md shows.
/// </summary>
[Collection(nameof(BrowserCollection))]
public sealed class InboxSeenAndBulkPageTests(BrowserSystem system)
{
    private static readonly LocatorAssertionsToHaveAttributeOptions Within10s = new() { Timeout = 10_000 };
    private static readonly LocatorAssertionsToHaveCountOptions CountWithin10s = new() { Timeout = 10_000 };

    [Fact]
    public async Task Badge_CountsUnseenNotUnread_SeenElsewhereLowersItLive()
    {
        var user = BrowserSystem.NewUser("unseen");
        var seenBefore = await system.NotifyAsync(user, "seen on another device");
        var seenLater = await system.NotifyAsync(user, "seen later");
        await system.NotifyAsync(user, "still new");
        await system.CallAsync(HttpMethod.Post, $"/api/notifications/{seenBefore}/seen", null, user, admin: false);
        var (context, page) = await system.SignInAsync(user);
        await using var _ = context;

        // Three unread, two unseen: the badge shows 2 while every item stays unread.
        await Expect(page.Locator("#badge")).ToHaveAttributeAsync("data-count", "2", Within10s);
        await Expect(page.Locator("li.item[data-status=unread]")).ToHaveCountAsync(3, CountWithin10s);
        await Expect(page.Locator($"li.item[data-id='{seenBefore}']")).ToHaveAttributeAsync("data-seen", "true");

        await system.CallAsync(HttpMethod.Post, $"/api/notifications/{seenLater}/seen", null, user, admin: false);

        await Expect(page.Locator("#badge")).ToHaveAttributeAsync("data-count", "1", Within10s);
        await Expect(page.Locator($"li.item[data-id='{seenLater}']")).ToHaveAttributeAsync("data-seen", "true", Within10s);
        await Expect(page.Locator("li.item[data-status=unread]")).ToHaveCountAsync(3);
        Directory.CreateDirectory(BrowserSystem.ScreenshotDirectory);
        await page.Locator("header").ScreenshotAsync(new() { Path = Path.Combine(BrowserSystem.ScreenshotDirectory, "badge-unseen.png") });
    }

    [Fact]
    public async Task InboxShown_MarksDisplayedItemsSeen_SecondTabsBadgeDropsLive()
    {
        var user = BrowserSystem.NewUser("display");
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await system.NotifyAsync(user, $"shown {i}"));
        }
        // The watching tab does not mark anything seen itself (?seen=manual).
        var (context, watcher) = await system.SignInAsync(user);
        await using var _ = context;
        await Expect(watcher.Locator("#badge")).ToHaveAttributeAsync("data-count", "3", Within10s);

        var reader = await context.NewPageAsync();
        await reader.GotoAsync(system.PageUrl(seenOnDisplay: true));
        await reader.WaitForSelectorAsync("#conn[data-state=connected]", new() { Timeout = 20_000 });

        await Expect(reader.Locator("li.item[data-seen=true]")).ToHaveCountAsync(3, CountWithin10s);
        await Expect(reader.Locator("#badge")).ToHaveAttributeAsync("data-count", "0", Within10s);
        await Expect(watcher.Locator("#badge")).ToHaveAttributeAsync("data-count", "0", Within10s);
        await Expect(watcher.Locator("li.item[data-seen=true]")).ToHaveCountAsync(3, CountWithin10s);
        // Seen is not read.
        await Expect(watcher.Locator("li.item[data-status=unread]")).ToHaveCountAsync(3);
        var count = await system.CallAsync(HttpMethod.Get, "/api/notifications/unseen_count", null, user, admin: false);
        Assert.Equal(0, count!["count"]!.GetValue<long>());

        // A notification arriving while the reader shows the inbox is seen there too; the watcher's badge goes 1, then 0.
        var live = await system.NotifyAsync(user, "arrives while shown");
        await Expect(reader.Locator($"li.item[data-id='{live}']")).ToHaveAttributeAsync("data-seen", "true", Within10s);
        await Expect(watcher.Locator("#badge")).ToHaveAttributeAsync("data-count", "0", Within10s);
    }

    [Fact]
    public async Task BulkBar_ReadArchiveDeleteByFilter_ChangeOnlyTheMatches_OtherTabFollows()
    {
        var user = BrowserSystem.NewUser("bulkui");
        var promos = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            promos.Add(await system.NotifyAsync(user, $"promo {i}", type: "promo"));
        }
        var bills = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            bills.Add(await system.NotifyAsync(user, $"bill {i}", type: "billing"));
        }
        var (context, page) = await system.SignInAsync(user);
        await using var _ = context;
        var second = await context.NewPageAsync();
        await second.GotoAsync(system.PageUrl());
        await second.WaitForSelectorAsync("#conn[data-state=connected]", new() { Timeout = 20_000 });
        await Expect(page.Locator("li.item")).ToHaveCountAsync(5, CountWithin10s);
        await Expect(second.Locator("li.item")).ToHaveCountAsync(5, CountWithin10s);

        // Mark read, type promo: the three promos, not the bills.
        await page.SelectOptionAsync("#bulk-action", "read");
        await page.FillAsync("#bulk-type", "promo");
        await page.ClickAsync("#bulk-apply");
        await Expect(page.Locator("#bulk-result")).ToHaveAttributeAsync("data-updated", "3", Within10s);
        await Expect(second.Locator("li.item[data-status=read]")).ToHaveCountAsync(3, CountWithin10s);
        await Expect(second.Locator("li.item[data-status=unread] .title")).ToHaveTextAsync(["bill 1", "bill 0"], new() { Timeout = 10_000 });

        // Archive, read only, any type: the promos leave the list, the unread bills stay.
        await page.FillAsync("#bulk-type", "");
        await page.SelectOptionAsync("#bulk-action", "archive");
        await page.SelectOptionAsync("#bulk-status", "read");
        await page.ClickAsync("#bulk-apply");
        await Expect(page.Locator("#bulk-result")).ToHaveAttributeAsync("data-updated", "3", Within10s);
        await Expect(page.Locator("li.item")).ToHaveCountAsync(2, CountWithin10s);
        await Expect(second.Locator("li.item")).ToHaveCountAsync(2, CountWithin10s);
        Directory.CreateDirectory(BrowserSystem.ScreenshotDirectory);
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserSystem.ScreenshotDirectory, "bulk-actions.png") });

        // Delete, before a time that lies before every notification: nothing matches.
        await page.SelectOptionAsync("#bulk-action", "delete");
        await page.SelectOptionAsync("#bulk-status", "");
        await page.FillAsync("#bulk-before", "2020-01-01T00:00");
        await page.ClickAsync("#bulk-apply");
        await Expect(page.Locator("#bulk-result")).ToHaveAttributeAsync("data-updated", "0", Within10s);
        await Expect(page.Locator("li.item")).ToHaveCountAsync(2);

        // Delete, type billing, before tomorrow: the bills go; the archived promos stay archived.
        await page.FillAsync("#bulk-type", "billing");
        await page.FillAsync("#bulk-before", DateTime.Now.AddDays(1).ToString("yyyy-MM-ddTHH:mm", System.Globalization.CultureInfo.InvariantCulture));
        await page.ClickAsync("#bulk-apply");
        await Expect(page.Locator("#bulk-result")).ToHaveAttributeAsync("data-updated", "2", Within10s);
        await Expect(page.Locator("li.item")).ToHaveCountAsync(0, CountWithin10s);
        await Expect(second.Locator("li.item")).ToHaveCountAsync(0, CountWithin10s);
        await page.SelectOptionAsync("#filter-view", "archived");
        await Expect(page.Locator("li.item")).ToHaveCountAsync(3, CountWithin10s);
    }

    [Fact]
    public async Task Broadcast_TypeInboxShowsNoToast_TypeOffNeverArrives_LiveToasts()
    {
        var user = BrowserSystem.NewUser("bcast");
        var marker = Guid.NewGuid().ToString("N")[..8];
        var quietType = "digest-" + marker;
        var offType = "promo-" + marker;
        await system.CallAsync(HttpMethod.Put, "/api/me/preferences", new
        {
            types = new Dictionary<string, object>
            {
                [quietType] = new { in_app = "inbox" },
                [offType] = new { in_app = "off" },
            },
        }, user, admin: false);
        var (context, page) = await system.SignInAsync(user);
        await using var _ = context;
        await Expect(page.Locator("#pref-list li")).ToHaveCountAsync(2, CountWithin10s);
        await page.EvaluateAsync(
            "() => { window.__messages = []; window.notifyApp.client.on('message', m => window.__messages.push(m.payload && m.payload.content)); }");

        await system.CallAsync(HttpMethod.Post, "/api/notifications/broadcast", new { type = quietType, content = "quiet " + marker });
        await system.CallAsync(HttpMethod.Post, "/api/notifications/broadcast", new { type = offType, content = "off " + marker });
        await system.CallAsync(HttpMethod.Post, "/api/notifications/broadcast", new { type = "news", title = "News " + marker, content = "live " + marker });

        await Expect(page.Locator(".toast", new() { HasText = "live " + marker })).ToHaveCountAsync(1, CountWithin10s);
        await Expect(page.Locator(".toast", new() { HasText = "quiet " + marker })).ToHaveCountAsync(0);
        // The inbox-mode broadcast reached the page (no toast); the off one never did.
        var messages = await page.EvaluateAsync<string[]>("() => window.__messages");
        Assert.Contains("quiet " + marker, messages);
        Assert.DoesNotContain("off " + marker, messages);
        Assert.Contains("live " + marker, messages);
        Directory.CreateDirectory(BrowserSystem.ScreenshotDirectory);
        await page.Locator("#pref-list").Locator("xpath=ancestor::div[contains(@class,'card')][1]")
            .ScreenshotAsync(new() { Path = Path.Combine(BrowserSystem.ScreenshotDirectory, "preferences-card.png") });
    }

    [Fact]
    public async Task PreferencesCard_PushChoice_SavedBesideTheInAppMode()
    {
        var user = BrowserSystem.NewUser("pushpref");
        var (context, page) = await system.SignInAsync(user);
        await using var _ = context;
        await Expect(page.Locator("#pref-status")).ToHaveTextAsync("Everything live (nothing chosen)", new() { Timeout = 10_000 });

        await page.FillAsync("#pref-type", "marketing");
        await page.SelectOptionAsync("#pref-mode", "inbox");
        await page.SelectOptionAsync("#pref-push", "off");
        await page.ClickAsync("#pref-add");
        await page.FillAsync("#pref-type", "security");
        await page.SelectOptionAsync("#pref-mode", "live");
        await page.SelectOptionAsync("#pref-push", "live");
        await page.ClickAsync("#pref-add");
        await page.ClickAsync("#pref-save");
        await Expect(page.Locator("#pref-status")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("[Vv]ersion 1\\b"), new() { Timeout = 10_000 });

        var stored = await system.CallAsync(HttpMethod.Get, "/api/me/preferences", null, user, admin: false);
        Assert.Equal("inbox", (string)stored!["types"]!["marketing"]!["in_app"]!);
        Assert.Equal("off", (string)stored["types"]!["marketing"]!["push"]!);
        Assert.Equal("live", (string)stored["types"]!["security"]!["push"]!);
        await Expect(page.Locator("#pref-list li[data-type=marketing]")).ToHaveAttributeAsync("data-push", "off");
    }
}
