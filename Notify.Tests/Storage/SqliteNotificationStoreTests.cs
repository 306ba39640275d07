using Notify.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using Notify.Core.Notifications;
using Notify.Core.Storage;
using Notify.Core.Storage.Sqlite;

namespace Notify.Tests.Storage;

public sealed class SqliteNotificationStoreTests : NotificationStoreContractTests
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"notify-store-{Guid.NewGuid():N}.db");
    private readonly List<SqliteDatabase> _databases = [];

    protected override Task<INotificationStore> CreateStoreAsync() =>
        Task.FromResult<INotificationStore>(new SqliteNotificationStore(Open()));

    private SqliteDatabase Open()
    {
        var database = new SqliteDatabase(_path, TimeSpan.FromSeconds(10), maxConnections: 8, SqliteSynchronousMode.Normal);
        _databases.Add(database);
        return database;
    }

    public override async ValueTask DisposeAsync()
    {
        foreach (var database in _databases)
        {
            database.Dispose();
        }
        TestEnvironment.DeleteSqliteFiles(_path);
        await base.DisposeAsync();
    }

    [Fact]
    public async Task SqliteNotificationStore_TwoInstancesOnOneFile_ShareRowsAndIdempotency()
    {
        // Two databases on one file behave like two processes: separate connection pools and write gates.
        var second = new SqliteNotificationStore(Open());
        await second.InitializeAsync(Ct);
        var user = NewUser();
        using var go = new ManualResetEventSlim();

        var calls = Enumerable.Range(0, 40).Select(i => Task.Run(async () =>
        {
            go.Wait(Ct);
            var store = i % 2 == 0 ? Store : second;
            var keyed = await store.CreateAsync(NewNotification(user), Key("one-key"), Ct);
            var plain = await store.CreateAsync(NewNotification(user), null, Ct);
            return (keyed, plain);
        }, Ct)).ToList();
        go.Set();
        var results = await Task.WhenAll(calls);

        Assert.Single(results, r => r.keyed.Created);
        Assert.All(results, r => Assert.True(r.plain.Created));
        Assert.Equal(41, await Store.CountUnreadAsync(user, Ct));
        Assert.Equal(41, await second.CountUnreadAsync(user, Ct));
        var fromFirst = await Store.ListAfterAsync(user, "", 100, Ct);
        var fromSecond = await second.ListAfterAsync(user, "", 100, Ct);
        Assert.Equal(fromFirst.Select(n => n.Id), fromSecond.Select(n => n.Id));
    }

    [Fact]
    public async Task InitializeAsync_FileFromBeforeCallerScopedKeys_IsUpgradedAndOldRowsKept()
    {
        var path = Path.Combine(Path.GetTempPath(), $"notify-store-old-{Guid.NewGuid():N}.db");
        try
        {
            // The schema as it was when keys were unique per user only, with one keyed row.
            using (var old = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=false"))
            {
                old.Open();
                using var command = old.CreateCommand();
                command.CommandText = """
                    CREATE TABLE notifications (id TEXT NOT NULL, user_id TEXT NOT NULL, type TEXT NOT NULL, title TEXT NOT NULL,
                        content TEXT NOT NULL, link TEXT, source TEXT, severity TEXT NOT NULL, status INTEGER NOT NULL,
                        created_at INTEGER NOT NULL, read_at INTEGER, metadata TEXT, idempotency_key TEXT);
                    CREATE UNIQUE INDEX ux_notifications_user_idempotency ON notifications (user_id, idempotency_key);
                    INSERT INTO notifications VALUES ('01JD3ZABCDEFGHJKMNPQRSTVWX', 'olga', 't', 'old', '', NULL, NULL, 'info', 0, 1, NULL, NULL, 'order-42');
                    """;
                command.ExecuteNonQuery();
            }
            using var database = new SqliteDatabase(path, TimeSpan.FromSeconds(10), 2, SqliteSynchronousMode.Normal);
            var store = new SqliteNotificationStore(database);

            await store.InitializeAsync(Ct);
            await store.InitializeAsync(Ct);
            var billing = await store.CreateAsync(NewNotification("olga"), Key("order-42", caller: "key:billing"), Ct);
            var shipping = await store.CreateAsync(NewNotification("olga"), Key("order-42", caller: "key:shipping"), Ct);

            Assert.True(billing.Created);
            Assert.True(shipping.Created);
            Assert.Equal(3, await store.CountUnreadAsync("olga", Ct));
            Assert.Equal("old", (await store.GetAsync("olga", "01JD3ZABCDEFGHJKMNPQRSTVWX", Ct))!.Title);
        }
        finally
        {
            TestEnvironment.DeleteSqliteFiles(path);
        }
    }

    [Fact]
    public async Task SqliteNotificationStore_RetentionWhileAnotherInstanceWrites_BothComplete()
    {
        var second = new SqliteNotificationStore(Open());
        var user = NewUser();
        await SeedAsync(user, 300);
        var cutoff = Time.GetUtcNow().AddMilliseconds(1);
        var writer = NewUser();
        var writerIds = new NotificationIds(new FakeTimeProvider(Time.GetUtcNow().AddDays(1)));

        var retention = Store.ApplyRetentionAsync(cutoff, null, batchSize: 10, Ct);
        var writes = Task.Run(async () =>
        {
            for (var i = 0; i < 100; i++)
            {
                await second.CreateAsync(NewNotification(writer) with { Id = writerIds.Next(), CreatedAt = cutoff.AddDays(1) }, null, Ct);
            }
        }, Ct);
        await Task.WhenAll(retention, writes);

        Assert.Equal(300, await retention);
        Assert.Equal(0, await Store.CountUnreadAsync(user, Ct));
        Assert.Equal(100, await Store.CountUnreadAsync(writer, Ct));
    }

    [Fact]
    public async Task SqliteNotificationStore_TwoProcessesWithClocksApart_AReaderFollowingTheIdsNeverSkipsACommit()
    {
        // Two databases on one file are two writers (say the Api and the Worker); one clock is an hour behind.
        var second = new SqliteNotificationStore(Open());
        var user = NewUser();
        var ahead = new NotificationIds(TimeProvider.System);
        var behind = new NotificationIds(new FakeTimeProvider(DateTimeOffset.UtcNow.AddHours(-1)));
        const int perWriter = 150;
        var created = new System.Collections.Concurrent.ConcurrentBag<string>();
        using var go = new ManualResetEventSlim();

        var writers = new[] { (Store: Store, Ids: ahead), (Store: (INotificationStore)second, Ids: behind) }.Select(w => Task.Run(async () =>
        {
            go.Wait(Ct);
            for (var i = 0; i < perWriter; i++)
            {
                var stored = await w.Store.CreateAsync(NewNotification(user) with { Id = w.Ids.Next() }, null, Ct);
                created.Add(stored.Notification.Id);
            }
        }, Ct)).ToList();
        // The reader resumes from the last id it saw, as a reconnecting client does.
        var seen = new List<string>();
        var reader = Task.Run(async () =>
        {
            go.Wait(Ct);
            while (seen.Count < 2 * perWriter)
            {
                var next = await second.ListAfterAsync(user, seen.Count == 0 ? "" : seen[^1], 50, Ct);
                seen.AddRange(next.Select(n => n.Id));
            }
        }, Ct);
        go.Set();
        await Task.WhenAll(writers);
        await reader.WaitAsync(TimeSpan.FromSeconds(30), Ct);

        Assert.Equal(created.Order(StringComparer.Ordinal), seen);
    }

    [Fact]
    public async Task InitializeAsync_FileOfSchemaVersion1_AddsTheOutboxKeepingOldRowsPublished()
    {
        var path = Path.Combine(Path.GetTempPath(), $"notify-v1-{Guid.NewGuid():N}.db");
        try
        {
            using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False"))
            {
                connection.Open();
                using var command = connection.CreateCommand();
                command.CommandText = """
                    CREATE TABLE notifications (id TEXT NOT NULL, user_id TEXT NOT NULL, type TEXT NOT NULL, title TEXT NOT NULL,
                      content TEXT NOT NULL, link TEXT, source TEXT, severity TEXT NOT NULL, status INTEGER NOT NULL,
                      created_at INTEGER NOT NULL, read_at INTEGER, metadata TEXT, idempotency_key TEXT);
                    INSERT INTO notifications VALUES ('01JD3Z0000000000000000000A', 'old-user', 't', 'old', '', NULL, NULL, 'info', 0, 1, NULL, NULL, NULL);
                    """;
                command.ExecuteNonQuery();
            }
            using var database = new SqliteDatabase(path, TimeSpan.FromSeconds(10), maxConnections: 2, SqliteSynchronousMode.Normal);
            var store = new SqliteNotificationStore(database);

            await store.InitializeAsync(Ct);
            await store.InitializeAsync(Ct);
            var next = await store.CreateAsync(NewNotification("old-user") with { Id = "01JD3Z00000000000000000009" }, null, Ct);

            Assert.Equal("old", (await store.GetAsync("old-user", "01JD3Z0000000000000000000A", Ct))?.Title);
            Assert.True(string.CompareOrdinal(next.Notification.Id, "01JD3Z0000000000000000000A") > 0);
            Assert.Equal([next.Notification.Id], (await store.ListUnpublishedAsync(10, Ct)).Select(n => n.Id));
        }
        finally
        {
            TestEnvironment.DeleteSqliteFiles(path);
        }
    }

    [Fact]
    public void ResolveSqlitePath_RelativeAndUnset_ResolvesAgainstContentRootOrSharedFolder()
    {
        var root = Path.Combine(Path.GetTempPath(), "content-root");

        var relative = StoreExtensions.ResolveSqlitePath(new StoreOptions { SqlitePath = "data/x.db" }, root);
        var unset = StoreExtensions.ResolveSqlitePath(new StoreOptions(), root);

        Assert.Equal(Path.Combine(root, "data", "x.db"), relative);
        Assert.EndsWith(Path.Combine("notify", "notify.db"), unset, StringComparison.Ordinal);
        Assert.True(Path.IsPathRooted(unset));
    }
}
