using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Notify.Core.Notifications;
using Notify.Core.Push;

namespace Notify.Tests.Storage;

/// <summary>
/// The behaviour every <see cref="INotificationStore"/> adapter must have. Subclasses only supply a store
/// on fresh, private storage; every test also uses its own user ids.
/// </summary>
public abstract class NotificationStoreContractTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    protected FakeTimeProvider Time { get; } = new(Start);

    protected NotificationIds Ids { get; }

    protected INotificationStore Store { get; private set; } = null!;

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected NotificationStoreContractTests() => Ids = new NotificationIds(Time);

    /// <summary>A store on fresh storage, already initialized.</summary>
    protected abstract Task<INotificationStore> CreateStoreAsync();

    public async ValueTask InitializeAsync()
    {
        Store = await CreateStoreAsync();
        await Store.InitializeAsync(Ct);
        // Initialization is idempotent.
        await Store.InitializeAsync(Ct);
    }

    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    protected static string NewUser() => "user-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>An idempotency key of <paramref name="caller"/> for the request hashed as <paramref name="hash"/>.</summary>
    protected static IdempotencyKey Key(string key, string caller = "key:billing", string hash = "request-1") => new(caller, key, hash);

    protected Notification NewNotification(string userId, string type = "test", DateTimeOffset? createdAt = null) => new()
    {
        Id = Ids.Next(),
        UserId = userId,
        Type = type,
        Title = "title",
        Content = "content",
        CreatedAt = createdAt ?? Time.GetUtcNow(),
    };

    protected async Task<List<Notification>> SeedAsync(string userId, int count, string type = "test")
    {
        var created = new List<Notification>();
        for (var i = 0; i < count; i++)
        {
            Time.Advance(TimeSpan.FromMilliseconds(1));
            created.Add((await Store.CreateAsync(NewNotification(userId, type), null, Ct)).Notification);
        }
        return created;
    }

    [Fact]
    public async Task CreateAsync_ThenGet_RoundTripsEveryField()
    {
        var user = NewUser();
        using var metadata = JsonDocument.Parse("""{"stock":"000001","n":3,"nested":{"ok":true},"list":[1.5,"x",null]}""");
        var notification = new Notification
        {
            Id = Ids.Next(),
            UserId = user,
            Type = "analysis",
            Title = "分析完成",
            Content = "000001 分析已完成",
            Link = "/stocks/000001",
            Source = "analysis",
            Severity = NotificationSeverity.Warning,
            CreatedAt = Time.GetUtcNow(),
            Metadata = metadata.RootElement.Clone(),
        };

        var result = await Store.CreateAsync(notification, null, Ct);
        var read = await Store.GetAsync(user, notification.Id, Ct);

        Assert.True(result.Created);
        Assert.NotNull(read);
        Assert.Equal(notification with { Metadata = null }, read with { Metadata = null });
        Assert.NotNull(read.Metadata);
        Assert.True(JsonElement.DeepEquals(notification.Metadata.Value, read.Metadata.Value), read.Metadata.Value.GetRawText());
    }

    [Theory]
    [InlineData("""{"n":{"$numberLong":"5"}}""")]
    [InlineData("""{"big":123456789012345678901234567890,"one":1.0,"exp":1e3}""")]
    [InlineData("""{"$date":"2026-01-01","dotted.key":[1,{"$oid":"x"}],"esc":"\u00e9\"\\"}""")]
    public async Task CreateAsync_Metadata_EveryReadReturnsItExactlyAsSent(string json)
    {
        var user = NewUser();
        using var metadata = JsonDocument.Parse(json);
        var notification = NewNotification(user) with { Metadata = metadata.RootElement.Clone() };

        await Store.CreateAsync(notification, null, Ct);

        Assert.Equal(json, (await Store.GetAsync(user, notification.Id, Ct))!.Metadata!.Value.GetRawText());
        Assert.Equal(json, Assert.Single((await Store.ListAsync(user, new NotificationQuery(), Ct)).Items).Metadata!.Value.GetRawText());
        Assert.Equal(json, Assert.Single(await Store.ListAfterAsync(user, "", 10, Ct)).Metadata!.Value.GetRawText());
    }

    [Fact]
    public async Task CreateAsync_WithoutOptionalFields_ReadsBackNulls()
    {
        var user = NewUser();
        var notification = NewNotification(user);

        await Store.CreateAsync(notification, null, Ct);
        var read = await Store.GetAsync(user, notification.Id, Ct);

        Assert.Equal(notification, read);
        Assert.Null(read!.Link);
        Assert.Null(read.Metadata);
        Assert.Equal(NotificationStatus.Unread, read.Status);
    }

    [Fact]
    public async Task CreateAsync_SubMillisecondTimes_ReturnsWhatAReadReturns()
    {
        var user = NewUser();
        var at = Time.GetUtcNow().AddTicks(1_234_567);
        var notification = NewNotification(user, createdAt: at) with { Status = NotificationStatus.Read, ReadAt = at.AddTicks(5_555) };

        var created = await Store.CreateAsync(notification, Key("precise"), Ct);
        var retried = await Store.CreateAsync(NewNotification(user, createdAt: at), Key("precise"), Ct);
        var read = await Store.GetAsync(user, notification.Id, Ct);

        Assert.Equal(read, created.Notification);
        Assert.Equal(read, retried.Notification);
        Assert.Equal(at.ToUnixTimeMilliseconds(), read!.CreatedAt.ToUnixTimeMilliseconds());
    }

    [Fact]
    public async Task GetAsync_OtherUsersId_ReturnsNull()
    {
        var owner = NewUser();
        var other = NewUser();
        var created = (await SeedAsync(owner, 1))[0];

        Assert.Null(await Store.GetAsync(other, created.Id, Ct));
        Assert.Null(await Store.GetAsync(owner, Ids.Next(), Ct));
        Assert.NotNull(await Store.GetAsync(owner, created.Id, Ct));
    }

    [Fact]
    public async Task ListAsync_SeveralRows_ReturnsNewestFirst()
    {
        var user = NewUser();
        var created = await SeedAsync(user, 7);

        var page = await Store.ListAsync(user, new NotificationQuery { Limit = 20 }, Ct);

        Assert.Equal(created.Select(n => n.Id).Reverse(), page.Items.Select(n => n.Id));
        Assert.Null(page.NextCursor);
    }

    [Theory]
    [InlineData(0, 5)]
    [InlineData(1, 5)]
    [InlineData(4, 5)]
    [InlineData(5, 5)]
    [InlineData(6, 5)]
    [InlineData(15, 5)]
    [InlineData(16, 5)]
    [InlineData(3, 1)]
    public async Task ListAsync_FollowingCursors_VisitsEveryRowOnceAndEndsWithNullCursor(int count, int limit)
    {
        var user = NewUser();
        var created = await SeedAsync(user, count);
        await SeedAsync(NewUser(), 3);

        var seen = new List<string>();
        var pages = new List<int>();
        string? cursor = null;
        do
        {
            var page = await Store.ListAsync(user, new NotificationQuery { Limit = limit, Before = cursor }, Ct);
            pages.Add(page.Items.Count);
            seen.AddRange(page.Items.Select(n => n.Id));
            cursor = page.NextCursor;
            if (cursor is not null)
            {
                Assert.Equal(page.Items[^1].Id, cursor);
            }
            Assert.True(pages.Count <= count + 1, "cursor never ended");
        }
        while (cursor is not null);

        Assert.Equal(created.Select(n => n.Id).Reverse(), seen);
        // Exact multiples end on a full page with a null cursor, not on an extra empty page.
        var expectedPages = Math.Max(1, (count + limit - 1) / limit);
        Assert.Equal(expectedPages, pages.Count);
        Assert.All(pages.SkipLast(1), size => Assert.Equal(limit, size));
    }

    [Fact]
    public async Task ListAsync_StatusAndTypeFilters_ReturnOnlyMatchingRows()
    {
        var user = NewUser();
        var alerts = await SeedAsync(user, 4, type: "alert");
        var reports = await SeedAsync(user, 3, type: "report");
        await Store.MarkReadAsync(user, alerts[0].Id, Time.GetUtcNow(), Ct);
        await Store.MarkReadAsync(user, reports[1].Id, Time.GetUtcNow(), Ct);

        var unreadAlerts = await Store.ListAsync(user, new NotificationQuery { Status = NotificationStatus.Unread, Type = "alert" }, Ct);
        var read = await Store.ListAsync(user, new NotificationQuery { Status = NotificationStatus.Read }, Ct);
        var allReports = await Store.ListAsync(user, new NotificationQuery { Type = "report" }, Ct);
        var readAlertsPage = await Store.ListAsync(user, new NotificationQuery { Status = NotificationStatus.Unread, Type = "alert", Limit = 2 }, Ct);
        var secondPage = await Store.ListAsync(user, new NotificationQuery { Status = NotificationStatus.Unread, Type = "alert", Limit = 2, Before = readAlertsPage.NextCursor }, Ct);

        Assert.Equal([alerts[3].Id, alerts[2].Id, alerts[1].Id], unreadAlerts.Items.Select(n => n.Id));
        Assert.Equal([reports[1].Id, alerts[0].Id], read.Items.Select(n => n.Id));
        Assert.Equal(reports.Select(n => n.Id).Reverse(), allReports.Items.Select(n => n.Id));
        Assert.Equal([alerts[1].Id], secondPage.Items.Select(n => n.Id));
        Assert.Null(secondPage.NextCursor);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(101)]
    public async Task ListAsync_LimitOutOfRange_Throws(int limit)
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Store.ListAsync(NewUser(), new NotificationQuery { Limit = limit }, Ct));
    }

    [Fact]
    public async Task ListAfterAsync_AfterAnId_ReturnsLaterRowsOldestFirstUpToLimit()
    {
        var user = NewUser();
        var created = await SeedAsync(user, 6);
        await SeedAsync(NewUser(), 4);

        var after = await Store.ListAfterAsync(user, created[1].Id, 3, Ct);
        var fromStart = await Store.ListAfterAsync(user, "", 100, Ct);
        var afterLast = await Store.ListAfterAsync(user, created[^1].Id, 100, Ct);

        Assert.Equal(created.Skip(2).Take(3).Select(n => n.Id), after.Select(n => n.Id));
        Assert.Equal(created.Select(n => n.Id), fromStart.Select(n => n.Id));
        Assert.Empty(afterLast);
    }

    [Fact]
    public async Task CreateAsync_TwoWritersWithClocksAnHourApart_IdsFollowCommitOrderAndReplayMissesNothing()
    {
        var user = NewUser();
        // Two writers (Api replicas, the Api and the Worker): the second one's clock is an hour behind.
        var behind = new NotificationIds(new FakeTimeProvider(Time.GetUtcNow().AddHours(-1)));
        var committed = new List<Notification>();
        for (var i = 0; i < 10; i++)
        {
            Time.Advance(TimeSpan.FromMilliseconds(1));
            var proposal = i % 2 == 0 ? NewNotification(user) : NewNotification(user) with { Id = behind.Next() };
            committed.Add((await Store.CreateAsync(proposal, null, Ct)).Notification);
        }

        var ids = committed.Select(n => n.Id).ToList();
        Assert.Equal(ids.Order(StringComparer.Ordinal), ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());
        for (var seen = 0; seen < ids.Count; seen++)
        {
            // A reader that has seen ids[seen] finds everything committed after it.
            var replay = await Store.ListAfterAsync(user, ids[seen], 100, Ct);
            Assert.Equal(ids.Skip(seen + 1), replay.Select(n => n.Id));
        }
        foreach (var notification in committed)
        {
            Assert.Equal(notification, await Store.GetAsync(user, notification.Id, Ct));
        }
    }

    [Fact]
    public async Task CreateAsync_ProposedIdAboveTheUsersNewest_IsKept()
    {
        var user = NewUser();
        await SeedAsync(user, 2);
        var proposal = NewNotification(user);

        var stored = (await Store.CreateAsync(proposal, null, Ct)).Notification;

        Assert.Equal(proposal.Id, stored.Id);
    }

    [Fact]
    public async Task CreateAsync_AfterTheNewestWasDeleted_NextIdStillSortsAfterTheDeletedOne()
    {
        var user = NewUser();
        var newest = (await SeedAsync(user, 3))[^1];
        Assert.True(await Store.DeleteAsync(user, newest.Id, Ct));
        var behind = new NotificationIds(new FakeTimeProvider(Time.GetUtcNow().AddMinutes(-5)));

        var next = (await Store.CreateAsync(NewNotification(user) with { Id = behind.Next() }, null, Ct)).Notification;

        Assert.True(string.CompareOrdinal(next.Id, newest.Id) > 0, $"{next.Id} must sort after the deleted {newest.Id}");
        Assert.Equal([next.Id], (await Store.ListAfterAsync(user, newest.Id, 10, Ct)).Select(n => n.Id));
    }

    [Fact]
    public async Task ListUnpublishedAsync_NewRows_WaitInIdOrderUntilMarkedPublished()
    {
        var first = NewUser();
        var second = NewUser();
        var a = (await SeedAsync(first, 2)).Select(n => n.Id).ToList();
        var b = (await SeedAsync(second, 1)).Select(n => n.Id).ToList();
        Time.Advance(TimeSpan.FromMilliseconds(1));
        var keyed = (await Store.CreateAsync(NewNotification(first), Key("once"), Ct)).Notification;
        var retried = await Store.CreateAsync(NewNotification(first), Key("once"), Ct);

        var waiting = await Store.ListUnpublishedAsync(100, Ct);
        var oldest = await Store.ListUnpublishedAsync(2, Ct);
        await Store.MarkPublishedAsync([new NotificationKey(first, a[0]), new NotificationKey(second, b[0]), new NotificationKey(first, "unknown")], Ct);
        await Store.MarkPublishedAsync([new NotificationKey(first, a[0])], Ct);
        var left = await Store.ListUnpublishedAsync(100, Ct);

        Assert.False(retried.Created);
        Assert.Equal(a.Concat(b).Append(keyed.Id).Order(StringComparer.Ordinal), waiting.Select(n => n.Id));
        Assert.Equal(waiting.Take(2).Select(n => n.Id), oldest.Select(n => n.Id));
        Assert.Equal([a[1], keyed.Id], left.Select(n => n.Id));
        Assert.Equal("title", left[0].Title);
    }

    [Fact]
    public async Task ListUnpublishedAsync_LimitZero_Throws()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Store.ListUnpublishedAsync(0, Ct));
    }

    [Fact]
    public async Task CountUnreadAsync_MixedRowsAndUsers_CountsOnlyTheUsersUnread()
    {
        var user = NewUser();
        var created = await SeedAsync(user, 5);
        await SeedAsync(NewUser(), 3);
        await Store.MarkReadAsync(user, created[2].Id, Time.GetUtcNow(), Ct);

        Assert.Equal(4, await Store.CountUnreadAsync(user, Ct));
        Assert.Equal(0, await Store.CountUnreadAsync(NewUser(), Ct));
    }

    [Fact]
    public async Task CreateAsync_ConcurrentCallsWithSameKey_StoreExactlyOneRow()
    {
        var user = NewUser();
        const int callers = 48;
        var candidates = Enumerable.Range(0, callers).Select(_ => NewNotification(user)).ToList();
        using var go = new ManualResetEventSlim();

        var calls = candidates.Select(n => Task.Run(async () =>
        {
            go.Wait(Ct);
            return await Store.CreateAsync(n, Key("retry-key-1"), Ct);
        }, Ct)).ToList();
        go.Set();
        var results = await Task.WhenAll(calls);

        var winner = Assert.Single(results, r => r.Created);
        Assert.All(results, r => Assert.Equal(winner.Notification.Id, r.Notification.Id));
        var page = await Store.ListAsync(user, new NotificationQuery { Limit = 100 }, Ct);
        Assert.Equal(winner.Notification.Id, Assert.Single(page.Items).Id);
    }

    [Fact]
    public async Task CreateAsync_SameKeyForDifferentUsersOrNoKey_CreatesEach()
    {
        var alice = NewUser();
        var bob = NewUser();

        var a = await Store.CreateAsync(NewNotification(alice), Key("shared-key"), Ct);
        var b = await Store.CreateAsync(NewNotification(bob), Key("shared-key"), Ct);
        var again = await Store.CreateAsync(NewNotification(alice), Key("shared-key"), Ct);
        var noKey1 = await Store.CreateAsync(NewNotification(alice), null, Ct);
        var noKey2 = await Store.CreateAsync(NewNotification(alice), null, Ct);

        Assert.True(a.Created);
        Assert.True(b.Created);
        Assert.False(again.Created);
        Assert.Equal(a.Notification, again.Notification);
        Assert.True(noKey1.Created && noKey2.Created);
        Assert.Equal(3, (await Store.ListAsync(alice, new NotificationQuery(), Ct)).Items.Count);
    }

    [Fact]
    public async Task CreateAsync_SameKeyFromTwoCallersForOneUser_CreatesEachAndRetriesGetTheirOwn()
    {
        var user = NewUser();

        var billing = await Store.CreateAsync(NewNotification(user, "billing"), Key("order-42", caller: "key:billing"), Ct);
        var shipping = await Store.CreateAsync(NewNotification(user, "shipping"), Key("order-42", caller: "key:shipping"), Ct);
        var billingRetry = await Store.CreateAsync(NewNotification(user, "billing"), Key("order-42", caller: "key:billing"), Ct);
        var shippingRetry = await Store.CreateAsync(NewNotification(user, "shipping"), Key("order-42", caller: "key:shipping"), Ct);

        Assert.True(billing.Created);
        Assert.True(shipping.Created);
        Assert.NotEqual(billing.Notification.Id, shipping.Notification.Id);
        Assert.False(billingRetry.Created || billingRetry.RequestMismatch);
        Assert.False(shippingRetry.Created || shippingRetry.RequestMismatch);
        Assert.Equal(billing.Notification, billingRetry.Notification);
        Assert.Equal(shipping.Notification, shippingRetry.Notification);
        Assert.Equal(2, (await Store.ListAsync(user, new NotificationQuery(), Ct)).Items.Count);
    }

    [Fact]
    public async Task CreateAsync_SameKeyAndCallerForADifferentRequest_StoresNothingAndSaysSo()
    {
        var user = NewUser();
        var first = await Store.CreateAsync(NewNotification(user), Key("k", hash: "first"), Ct);

        var other = await Store.CreateAsync(NewNotification(user, "other"), Key("k", hash: "second"), Ct);
        var retry = await Store.CreateAsync(NewNotification(user), Key("k", hash: "first"), Ct);

        Assert.False(other.Created);
        Assert.True(other.RequestMismatch);
        Assert.False(retry.RequestMismatch);
        Assert.Equal(first.Notification, retry.Notification);
        Assert.Equal(first.Notification.Id, Assert.Single((await Store.ListAsync(user, new NotificationQuery(), Ct)).Items).Id);
    }

    [Fact]
    public async Task MarkReadAsync_ConcurrentCallers_AllSucceedAndRowIsReadOnce()
    {
        var user = NewUser();
        var created = (await SeedAsync(user, 1))[0];
        var readAt = Time.GetUtcNow().AddMinutes(1);
        using var go = new ManualResetEventSlim();

        var calls = Enumerable.Range(0, 32).Select(_ => Task.Run(async () =>
        {
            go.Wait(Ct);
            return await Store.MarkReadAsync(user, created.Id, readAt, Ct);
        }, Ct)).ToList();
        go.Set();
        var results = await Task.WhenAll(calls);

        Assert.All(results, Assert.True);
        var read = await Store.GetAsync(user, created.Id, Ct);
        Assert.Equal(NotificationStatus.Read, read!.Status);
        Assert.Equal(readAt, read.ReadAt);
        Assert.Equal(0, await Store.CountUnreadAsync(user, Ct));
    }

    [Fact]
    public async Task MarkReadAsync_AlreadyRead_KeepsFirstReadTime()
    {
        var user = NewUser();
        var created = (await SeedAsync(user, 1))[0];
        var first = Time.GetUtcNow().AddMinutes(1);

        Assert.True(await Store.MarkReadAsync(user, created.Id, first, Ct));
        Assert.True(await Store.MarkReadAsync(user, created.Id, first.AddMinutes(5), Ct));

        Assert.Equal(first, (await Store.GetAsync(user, created.Id, Ct))!.ReadAt);
    }

    [Fact]
    public async Task MarkReadAsync_MissingOrOtherUsersId_ReturnsFalseAndChangesNothing()
    {
        var owner = NewUser();
        var created = (await SeedAsync(owner, 1))[0];

        Assert.False(await Store.MarkReadAsync(NewUser(), created.Id, Time.GetUtcNow(), Ct));
        Assert.False(await Store.MarkReadAsync(owner, Ids.Next(), Time.GetUtcNow(), Ct));

        Assert.Equal(NotificationStatus.Unread, (await Store.GetAsync(owner, created.Id, Ct))!.Status);
    }

    [Fact]
    public async Task MarkAllReadAsync_MixedUsers_ChangesOnlyTheCallersUnreadRows()
    {
        var user = NewUser();
        var other = NewUser();
        var created = await SeedAsync(user, 5);
        await SeedAsync(other, 2);
        await Store.MarkReadAsync(user, created[0].Id, Time.GetUtcNow(), Ct);

        var updated = await Store.MarkAllReadAsync(user, Time.GetUtcNow(), Ct);
        var again = await Store.MarkAllReadAsync(user, Time.GetUtcNow(), Ct);

        Assert.Equal(4, updated);
        Assert.Equal(0, again);
        Assert.Equal(0, await Store.CountUnreadAsync(user, Ct));
        Assert.Equal(2, await Store.CountUnreadAsync(other, Ct));
    }

    [Fact]
    public async Task DeleteAsync_OwnAndOtherUsersIds_DeletesOnlyOwnRow()
    {
        var owner = NewUser();
        var created = await SeedAsync(owner, 2);

        Assert.False(await Store.DeleteAsync(NewUser(), created[0].Id, Ct));
        Assert.True(await Store.DeleteAsync(owner, created[0].Id, Ct));
        Assert.False(await Store.DeleteAsync(owner, created[0].Id, Ct));

        Assert.Null(await Store.GetAsync(owner, created[0].Id, Ct));
        Assert.NotNull(await Store.GetAsync(owner, created[1].Id, Ct));
    }

    [Fact]
    public async Task EveryMethod_CalledByAnotherUser_NeverSeesOrChangesTheOwnersRows()
    {
        var owner = NewUser();
        var intruder = NewUser();
        var rows = await SeedAsync(owner, 4);
        var keyed = await Store.CreateAsync(NewNotification(owner), Key("owner-key"), Ct);

        foreach (var row in rows)
        {
            Assert.Null(await Store.GetAsync(intruder, row.Id, Ct));
            Assert.False(await Store.MarkReadAsync(intruder, row.Id, Time.GetUtcNow(), Ct));
            Assert.False(await Store.DeleteAsync(intruder, row.Id, Ct));
        }
        Assert.Empty((await Store.ListAsync(intruder, new NotificationQuery { Limit = 100 }, Ct)).Items);
        Assert.Empty((await Store.ListAsync(intruder, new NotificationQuery { Before = "\uffff" }, Ct)).Items);
        Assert.Empty(await Store.ListAfterAsync(intruder, "", 100, Ct));
        Assert.Equal(0, await Store.CountUnreadAsync(intruder, Ct));
        Assert.Equal(0, await Store.MarkAllReadAsync(intruder, Time.GetUtcNow(), Ct));
        var intruderKeyed = await Store.CreateAsync(NewNotification(intruder), Key("owner-key"), Ct);

        Assert.True(intruderKeyed.Created);
        Assert.NotEqual(keyed.Notification.Id, intruderKeyed.Notification.Id);
        Assert.Equal(5, await Store.CountUnreadAsync(owner, Ct));
        Assert.Equal(
            rows.Select(n => n.Id).Append(keyed.Notification.Id),
            (await Store.ListAfterAsync(owner, "", 100, Ct)).Select(n => n.Id));
    }

    [Fact]
    public async Task CreateAsync_AfterDeleteWithSameKey_ReturnsNoGhost()
    {
        var user = NewUser();
        var first = await Store.CreateAsync(NewNotification(user), Key("k"), Ct);
        await Store.DeleteAsync(user, first.Notification.Id, Ct);

        var second = await Store.CreateAsync(NewNotification(user), Key("k"), Ct);

        Assert.True(second.Created);
        Assert.NotEqual(first.Notification.Id, second.Notification.Id);
    }

    [Fact]
    public async Task ApplyRetentionAsync_OlderThan_DeletesOldRowsInBatchesAndKeepsNewer()
    {
        var alice = NewUser();
        var bob = NewUser();
        var oldAlice = await SeedAsync(alice, 13);
        var oldBob = await SeedAsync(bob, 4);
        var cutoff = Time.GetUtcNow().AddMilliseconds(1);
        Time.Advance(TimeSpan.FromDays(1));
        var newAlice = await SeedAsync(alice, 3);

        var deleted = await Store.ApplyRetentionAsync(cutoff, keepNewestPerUser: null, batchSize: 5, Ct);

        Assert.Equal(oldAlice.Count + oldBob.Count, deleted);
        Assert.Equal(newAlice.Select(n => n.Id).Reverse(), (await Store.ListAsync(alice, new NotificationQuery(), Ct)).Items.Select(n => n.Id));
        Assert.Empty((await Store.ListAsync(bob, new NotificationQuery(), Ct)).Items);
        Assert.Equal(0, await Store.ApplyRetentionAsync(cutoff, null, 5, Ct));
    }

    [Fact]
    public async Task ApplyRetentionAsync_KeepNewestPerUser_KeepsOnlyTheNewestOfEachUser()
    {
        var alice = NewUser();
        var bob = NewUser();
        var carol = NewUser();
        var aliceRows = await SeedAsync(alice, 12);
        var bobRows = await SeedAsync(bob, 3);
        var carolRows = await SeedAsync(carol, 4);
        var longAgo = Time.GetUtcNow().AddYears(-1);

        var deleted = await Store.ApplyRetentionAsync(longAgo, keepNewestPerUser: 3, batchSize: 4, Ct);

        Assert.Equal(9 + 0 + 1, deleted);
        Assert.Equal(aliceRows.TakeLast(3).Select(n => n.Id).Reverse(), (await Store.ListAsync(alice, new NotificationQuery(), Ct)).Items.Select(n => n.Id));
        Assert.Equal(bobRows.Select(n => n.Id).Reverse(), (await Store.ListAsync(bob, new NotificationQuery(), Ct)).Items.Select(n => n.Id));
        Assert.Equal(carolRows.TakeLast(3).Select(n => n.Id).Reverse(), (await Store.ListAsync(carol, new NotificationQuery(), Ct)).Items.Select(n => n.Id));
    }

    [Fact]
    public async Task ApplyRetentionAsync_KeepZeroPerUser_DeletesEverything()
    {
        var user = NewUser();
        await SeedAsync(user, 7);

        var deleted = await Store.ApplyRetentionAsync(Time.GetUtcNow().AddYears(-1), keepNewestPerUser: 0, batchSize: 3, Ct);

        Assert.Equal(7, deleted);
        Assert.Equal(0, await Store.CountUnreadAsync(user, Ct));
    }

    [Fact]
    public async Task ApplyRetentionAsync_ManyUsersOverTheCap_CapsEveryUser()
    {
        // More users than one page of the per-user scan.
        const int users = 620;
        var ids = Enumerable.Range(0, users).Select(i => $"cap-{i:D4}-{Guid.NewGuid():N}"[..24]).ToList();
        foreach (var user in ids)
        {
            await SeedAsync(user, 2);
        }

        var deleted = await Store.ApplyRetentionAsync(Time.GetUtcNow().AddYears(-1), keepNewestPerUser: 1, batchSize: 100, Ct);

        Assert.Equal(users, deleted);
        foreach (var user in ids.Where((_, i) => i % 50 == 0).Append(ids[^1]))
        {
            Assert.Equal(1, await Store.CountUnreadAsync(user, Ct));
        }
    }

    [Fact]
    public async Task MarkSeenAsync_SeparateFromRead_BadgeCountsUnseen()
    {
        var user = NewUser();
        var items = await SeedAsync(user, 3);

        Assert.True(await Store.MarkSeenAsync(user, items[0].Id, Time.GetUtcNow(), Ct));
        Time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await Store.MarkSeenAsync(user, items[0].Id, Time.GetUtcNow(), Ct));
        Assert.False(await Store.MarkSeenAsync(NewUser(), items[1].Id, Time.GetUtcNow(), Ct));
        Assert.False(await Store.MarkSeenAsync(user, "01JD3ZABCDEFGHJKMNPQRSTVWX", Time.GetUtcNow(), Ct));

        var seen = await Store.GetAsync(user, items[0].Id, Ct);
        Assert.Equal(Time.GetUtcNow().AddSeconds(-1), seen!.SeenAt);
        Assert.Equal(NotificationStatus.Unread, seen.Status);
        Assert.Equal(2, await Store.CountUnseenAsync(user, Ct));
        Assert.Equal(3, await Store.CountUnreadAsync(user, Ct));
        var unseen = await Store.ListAsync(user, new NotificationQuery { UnseenOnly = true }, Ct);
        Assert.Equal([items[2].Id, items[1].Id], unseen.Items.Select(n => n.Id));
    }

    [Fact]
    public async Task MarkReadAsync_AlsoMarksSeen_KeepingAnEarlierSeenTime()
    {
        var user = NewUser();
        var items = await SeedAsync(user, 3);
        var seenAt = Time.GetUtcNow();
        await Store.MarkSeenAsync(user, items[0].Id, seenAt, Ct);
        Time.Advance(TimeSpan.FromMinutes(1));

        await Store.MarkReadAsync(user, items[0].Id, Time.GetUtcNow(), Ct);
        await Store.MarkReadAsync(user, items[1].Id, Time.GetUtcNow(), Ct);

        Assert.Equal(seenAt, (await Store.GetAsync(user, items[0].Id, Ct))!.SeenAt);
        Assert.Equal(Time.GetUtcNow(), (await Store.GetAsync(user, items[1].Id, Ct))!.SeenAt);
        Assert.Equal(1, await Store.CountUnseenAsync(user, Ct));
        await Store.MarkAllReadAsync(user, Time.GetUtcNow(), Ct);
        Assert.Equal(0, await Store.CountUnseenAsync(user, Ct));
    }

    [Fact]
    public async Task SetArchivedAsync_LeavesDefaultListAndBadge_ArchivedFilterFindsIt_UnarchiveBringsItBack()
    {
        var user = NewUser();
        var items = await SeedAsync(user, 3);

        Assert.True(await Store.SetArchivedAsync(user, items[1].Id, Time.GetUtcNow(), Ct));
        Assert.True(await Store.SetArchivedAsync(user, items[1].Id, Time.GetUtcNow().AddMinutes(1), Ct));
        Assert.False(await Store.SetArchivedAsync(NewUser(), items[0].Id, Time.GetUtcNow(), Ct));

        Assert.Equal([items[2].Id, items[0].Id], (await Store.ListAsync(user, new NotificationQuery(), Ct)).Items.Select(n => n.Id));
        var archived = Assert.Single((await Store.ListAsync(user, new NotificationQuery { View = InboxView.Archived }, Ct)).Items);
        Assert.Equal(Time.GetUtcNow(), archived.ArchivedAt);
        Assert.Equal(2, await Store.CountUnseenAsync(user, Ct));
        Assert.Equal(3, (await Store.ListAsync(user, new NotificationQuery { View = InboxView.All }, Ct)).Items.Count);

        Assert.True(await Store.SetArchivedAsync(user, items[1].Id, null, Ct));
        Assert.Null((await Store.GetAsync(user, items[1].Id, Ct))!.ArchivedAt);
        Assert.Equal(3, (await Store.ListAsync(user, new NotificationQuery(), Ct)).Items.Count);
        Assert.Empty((await Store.ListAsync(user, new NotificationQuery { View = InboxView.Archived }, Ct)).Items);
    }

    [Fact]
    public async Task SnoozeAsync_LeavesList_WakeBringsItBackUnreadAndUnseen_OnlyWhenDue()
    {
        var user = NewUser();
        var items = await SeedAsync(user, 2);
        await Store.MarkReadAsync(user, items[0].Id, Time.GetUtcNow(), Ct);
        var until = Time.GetUtcNow().AddMinutes(10);

        Assert.True(await Store.SnoozeAsync(user, items[0].Id, until, Ct));
        Assert.False(await Store.SnoozeAsync(NewUser(), items[1].Id, until, Ct));

        Assert.Equal([items[1].Id], (await Store.ListAsync(user, new NotificationQuery(), Ct)).Items.Select(n => n.Id));
        var snoozed = Assert.Single((await Store.ListAsync(user, new NotificationQuery { View = InboxView.Snoozed }, Ct)).Items);
        Assert.Equal(until, snoozed.SnoozedUntil);
        Assert.DoesNotContain(await Store.WakeDueSnoozesAsync(until.AddMilliseconds(-1), 100, Ct), n => n.UserId == user);

        var woken = Assert.Single(await Store.WakeDueSnoozesAsync(until, 100, Ct), n => n.UserId == user);

        Assert.Equal(items[0].Id, woken.Id);
        Assert.Equal(NotificationStatus.Unread, woken.Status);
        Assert.Null(woken.ReadAt);
        Assert.Null(woken.SeenAt);
        Assert.Null(woken.SnoozedUntil);
        Assert.Equal(woken, await Store.GetAsync(user, items[0].Id, Ct));
        Assert.Equal(2, (await Store.ListAsync(user, new NotificationQuery(), Ct)).Items.Count);
        Assert.DoesNotContain(await Store.WakeDueSnoozesAsync(until.AddDays(1), 100, Ct), n => n.UserId == user);
    }

    [Fact]
    public async Task WakeDueSnoozesAsync_ConcurrentCallers_EachSnoozeClaimedExactlyOnce()
    {
        var user = NewUser();
        var items = await SeedAsync(user, 40);
        foreach (var item in items)
        {
            await Store.SnoozeAsync(user, item.Id, Time.GetUtcNow(), Ct);
        }
        using var go = new ManualResetEventSlim();

        var calls = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            go.Wait(Ct);
            var mine = new List<Notification>();
            while (true)
            {
                var batch = await Store.WakeDueSnoozesAsync(Time.GetUtcNow(), 3, Ct);
                Assert.True(batch.Count <= 3);
                if (batch.Count == 0)
                {
                    return mine;
                }
                mine.AddRange(batch.Where(n => n.UserId == user));
            }
        }, Ct)).ToList();
        go.Set();
        var claimed = (await Task.WhenAll(calls)).SelectMany(c => c).Select(n => n.Id).ToList();

        Assert.Equal(items.Select(n => n.Id).Order(), claimed.Order());
    }

    [Fact]
    public async Task BulkAsync_ByTypeBeforeAndStatus_InBoundedBatches()
    {
        var user = NewUser();
        var old = await SeedAsync(user, 5, type: "billing");
        var cutoff = Time.GetUtcNow().AddMilliseconds(1);
        Time.Advance(TimeSpan.FromSeconds(1));
        var recent = await SeedAsync(user, 2, type: "billing");
        var other = await SeedAsync(user, 2, type: "chat");
        await Store.MarkReadAsync(user, old[0].Id, Time.GetUtcNow(), Ct);
        var filter = new BulkFilter { Type = "billing", Before = cutoff, Status = NotificationStatus.Unread };

        Assert.Equal(3, await Store.BulkAsync(user, filter, BulkAction.Archive, Time.GetUtcNow(), 3, Ct));
        Assert.Equal(1, await Store.BulkAsync(user, filter, BulkAction.Archive, Time.GetUtcNow(), 3, Ct));
        Assert.Equal(0, await Store.BulkAsync(user, filter, BulkAction.Archive, Time.GetUtcNow(), 3, Ct));
        Assert.Equal(0, await Store.BulkAsync(NewUser(), new BulkFilter(), BulkAction.Archive, Time.GetUtcNow(), 3, Ct));

        var list = (await Store.ListAsync(user, new NotificationQuery(), Ct)).Items.Select(n => n.Id).ToHashSet();
        Assert.Equal(recent.Concat(other).Select(n => n.Id).Append(old[0].Id).ToHashSet(), list);

        Assert.Equal(2, await Store.BulkAsync(user, new BulkFilter { Type = "chat" }, BulkAction.Read, Time.GetUtcNow(), 100, Ct));
        Assert.Equal(2, await Store.BulkAsync(user, new BulkFilter { Type = "billing" }, BulkAction.Seen, Time.GetUtcNow(), 100, Ct));
        Assert.Equal(0, await Store.CountUnseenAsync(user, Ct));
        Assert.Equal(7, await Store.BulkAsync(user, new BulkFilter { Type = "billing" }, BulkAction.Delete, Time.GetUtcNow(), 100, Ct));
        Assert.Equal(other.Select(n => n.Id).Order(), (await Store.ListAsync(user, new NotificationQuery { View = InboxView.All }, Ct)).Items.Select(n => n.Id).Order());
    }

    private IPushOutbox Outbox => Assert.IsAssignableFrom<IPushOutbox>(Store);

    private async Task<List<string>> ClaimIdsAsync(string user, DateTimeOffset now, TimeSpan lease, int limit = 1000) =>
        [.. (await Outbox.ClaimAsync(now, now - TimeSpan.FromHours(1), now + lease, limit, Ct)).Notifications.Where(n => n.UserId == user).Select(n => n.Id)];

    [Fact]
    public async Task PushOutbox_NewNotification_ClaimedOnceWhileLeased_AgainAfterTheLease_NeverAfterComplete()
    {
        var user = NewUser();
        var items = await SeedAsync(user, 3);
        var now = Time.GetUtcNow();

        Assert.Equal(items.Select(n => n.Id), await ClaimIdsAsync(user, now, TimeSpan.FromMinutes(1)));
        Assert.Empty(await ClaimIdsAsync(user, now.AddSeconds(59), TimeSpan.FromMinutes(1)));

        // The claimer died: after the lease another claims them.
        Assert.Equal(items.Select(n => n.Id), await ClaimIdsAsync(user, now.AddMinutes(1), TimeSpan.FromMinutes(1)));
        await Outbox.CompleteAsync([new NotificationKey(user, items[0].Id), new NotificationKey(user, "missing")], Ct);

        Assert.Equal(items.Skip(1).Select(n => n.Id), await ClaimIdsAsync(user, now.AddMinutes(5), TimeSpan.FromMinutes(1)));
        await Outbox.CompleteAsync([.. items.Skip(1).Select(n => new NotificationKey(user, n.Id))], Ct);
        Assert.Empty(await ClaimIdsAsync(user, now.AddMinutes(10), TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public async Task PushOutbox_ConcurrentClaimers_EachNotificationClaimedByOne()
    {
        var user = NewUser();
        var items = await SeedAsync(user, 40);
        var now = Time.GetUtcNow();

        var claims = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => ClaimIdsAsync(user, now, TimeSpan.FromMinutes(5), limit: 9))));

        var all = claims.SelectMany(c => c).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.Equal(items.Select(n => n.Id).Order(), all.Order());
    }

    [Fact]
    public async Task PushOutbox_WaitingLongerThanOldest_DroppedAndCounted_NeverClaimed()
    {
        var user = NewUser();
        var now = Time.GetUtcNow();
        var old = (await Store.CreateAsync(NewNotification(user, createdAt: now.AddHours(-2)), null, Ct)).Notification;
        var fresh = (await Store.CreateAsync(NewNotification(user, createdAt: now.AddMinutes(-59)), null, Ct)).Notification;

        var claim = await Outbox.ClaimAsync(now, now.AddHours(-1), now.AddMinutes(1), 1000, Ct);

        Assert.True(claim.Expired >= 1);
        Assert.Equal([fresh.Id], claim.Notifications.Where(n => n.UserId == user).Select(n => n.Id));
        // Dropped, not only skipped: a later claim with no age bound does not find it either.
        Assert.DoesNotContain((await Outbox.ClaimAsync(now.AddHours(1), now.AddDays(-30), now.AddHours(2), 1000, Ct)).Notifications, n => n.Id == old.Id);
    }

    [Fact]
    public async Task PushOutbox_WokenSnooze_WaitsForPushAgain()
    {
        var user = NewUser();
        var item = (await SeedAsync(user, 1))[0];
        var now = Time.GetUtcNow();
        Assert.Equal([item.Id], await ClaimIdsAsync(user, now, TimeSpan.FromMinutes(1)));
        await Outbox.CompleteAsync([new NotificationKey(user, item.Id)], Ct);
        var until = now.AddHours(3);
        await Store.SnoozeAsync(user, item.Id, until, Ct);
        Assert.Empty(await ClaimIdsAsync(user, now.AddHours(2), TimeSpan.FromMinutes(1)));

        Assert.Single(await Store.WakeDueSnoozesAsync(until, 100, Ct), n => n.Id == item.Id);

        Assert.Equal([item.Id], await ClaimIdsAsync(user, until.AddSeconds(1), TimeSpan.FromMinutes(1)));
    }
}
