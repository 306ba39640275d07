using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Notify.Tests.Browser;

/// <summary>Task progress in the page, and the admin page; saves the screenshots the README shows.</summary>
[Collection(nameof(BrowserCollection))]
public sealed class TasksAndAdminPageTests(BrowserSystem system)
{
    [Fact]
    public async Task Tasks_DemoTask_ProgressBarReachesHundred()
    {
        var (context, page) = await system.SignInAsync(BrowserSystem.NewUser("task"));
        await using var _ = context;

        await page.ClickAsync("#start-task");

        var card = page.Locator("li.task[data-kind=task]").First;
        await Expect(card).ToHaveAttributeAsync("data-status", "completed", new() { Timeout = 60_000 });
        await Expect(card).ToHaveAttributeAsync("data-progress", "100");
        var width = await card.Locator(".bar > div").EvaluateAsync<string>("el => el.style.width");
        Assert.Equal("100%", width);
    }

    [Fact]
    public async Task Tasks_DemoBatch_AggregateBarReachesHundred()
    {
        var (context, page) = await system.SignInAsync(BrowserSystem.NewUser("batch"));
        await using var _ = context;

        await page.ClickAsync("#start-batch");

        var card = page.Locator("li.task[data-kind=batch]").First;
        await Expect(card).ToHaveAttributeAsync("data-progress", "100", new() { Timeout = 90_000 });
        await Expect(card).ToHaveAttributeAsync("data-status", "completed");
        await Expect(card.Locator(".msg")).ToContainTextAsync("5 done");
    }

    [Fact]
    public async Task Screenshots_InboxAndAdminPage_SavedAsArtifacts()
    {
        var admin = BrowserSystem.NewUser("admin");
        var samples = new[]
        {
            ("Nightly backup complete", "412 GB copied to cold storage", "success"),
            ("Disk almost full", "db-2: 91% used on /var/lib", "warning"),
            ("Build failed", "main #318: 2 tests failed", "error"),
            ("Report ready", "Weekly usage report (PDF, 2.1 MB)", "info"),
            ("Deploy finished", "api 1.4.2 is live in eu-west", "success"),
        };
        var ids = new List<string>();
        foreach (var (title, content, severity) in samples)
        {
            ids.Add(await system.NotifyAsync(admin, title, content, severity));
        }
        var (context, page) = await system.SignInAsync(admin, admin: true);
        await using var _ = context;
        Directory.CreateDirectory(BrowserSystem.ScreenshotDirectory);

        await page.GotoAsync(system.PageUrl() + "#/");
        await Expect(page.Locator("li.item")).ToHaveCountAsync(samples.Length, new() { Timeout = 10_000 });
        await page.Locator($"li.item[data-id='{ids[0]}'] button.mark-read").ClickAsync();
        await Expect(page.Locator("#badge")).ToHaveAttributeAsync("data-count", (samples.Length - 1).ToString(System.Globalization.CultureInfo.InvariantCulture), new() { Timeout = 5_000 });
        await page.ClickAsync("#start-task");
        await page.WaitForFunctionAsync("() => Number(document.querySelector('li.task')?.dataset.progress) >= 30", null, new() { Timeout = 30_000 });
        var live = await system.NotifyAsync(admin, "Task finished", "Your export of 12,000 rows is ready", "success");
        await Expect(page.Locator($"li.item[data-id='{live}']")).ToBeVisibleAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserSystem.ScreenshotDirectory, "inbox.png") });

        await page.ClickAsync("#nav-admin");
        await Expect(page.Locator("#view-admin")).ToBeVisibleAsync();
        if (await system.RealtimeAllowsPageOriginAsync())
        {
            await Expect(page.Locator("#stat-instances tr")).ToHaveCountAsync(2, new() { Timeout = 10_000 });
            await Expect(page.Locator("#stat-connections")).Not.ToHaveTextAsync("–");
        }
        var worker = (await system.ClientConfigAsync())["worker_url"]?.GetValue<string>();
        if (worker is not null)
        {
            await Expect(page.Locator("#link-hangfire")).ToHaveAttributeAsync("href", new System.Text.RegularExpressions.Regex("^" + System.Text.RegularExpressions.Regex.Escape(worker) + "/hangfire\\?token="));
        }
        await Expect(page.Locator("#link-scalar")).ToHaveAttributeAsync("href", "/scalar");
        // A message to the admins comes back to this admin's own feed (the page subscribes to `admin`).
        await page.SelectOptionAsync("#bc-target", "admin");
        await page.FillAsync("#bc-title", "Maintenance");
        await page.FillAsync("#bc-content", "Redis failover drill at 22:00 UTC");
        await page.ClickAsync("#broadcast-form button[type=submit]");
        await Expect(page.Locator("#admin-feed li").First).ToContainTextAsync("Redis failover drill", new() { Timeout = 5_000 });
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserSystem.ScreenshotDirectory, "admin.png"), FullPage = true });

        Assert.True(new FileInfo(Path.Combine(BrowserSystem.ScreenshotDirectory, "inbox.png")).Length > 10_000);
        Assert.True(new FileInfo(Path.Combine(BrowserSystem.ScreenshotDirectory, "admin.png")).Length > 10_000);
    }

    [Fact]
    public async Task Admin_Broadcast_ReachesAConnectedUserAsToast()
    {
        var (userContext, userPage) = await system.SignInAsync(BrowserSystem.NewUser("listener"));
        await using var _ = userContext;
        var (adminContext, adminPage) = await system.SignInAsync(BrowserSystem.NewUser("admin"), admin: true);
        await using var __ = adminContext;
        var text = $"maintenance at 22:00 {Guid.NewGuid():N}";

        await adminPage.FillAsync("#bc-content", text);
        await adminPage.ClickAsync("#broadcast-form button[type=submit]");

        await Expect(adminPage.Locator("#bc-result")).ToContainTextAsync("Sent", new() { Timeout = 5_000 });
        await Expect(userPage.Locator(".toast")).ToContainTextAsync(text, new() { Timeout = 5_000 });
    }
}
