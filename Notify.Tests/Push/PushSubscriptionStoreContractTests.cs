using Notify.Core.Push;
using Notify.Core.Storage.Mongo;
using Notify.Core.Storage.Sqlite;
using Notify.Core.Storage;
using Notify.Tests.Infrastructure;
using Notify.Tests.Storage;

namespace Notify.Tests.Push;

/// <summary>The behaviour every <see cref="IPushSubscriptionStore"/> adapter must have; subclasses supply fresh storage.</summary>
public abstract class PushSubscriptionStoreContractTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    protected IPushSubscriptionStore Store { get; private set; } = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected abstract Task<IPushSubscriptionStore> CreateStoreAsync();

    public async ValueTask InitializeAsync()
    {
        Store = await CreateStoreAsync();
        await Store.InitializeAsync(Ct);
        await Store.InitializeAsync(Ct);
    }

    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    private static PushSubscription Device(string user, string endpoint, int minute = 0, string auth = "auth-1") => new()
    {
        Id = PushSubscription.IdOf(endpoint),
        UserId = user,
        Endpoint = endpoint,
        P256dh = "p256dh-" + endpoint,
        Auth = auth,
        CreatedAt = Now.AddMinutes(minute),
    };

    [Fact]
    public async Task Save_NewEndpoints_ListedOldestFirstForTheirUserOnly()
    {
        Assert.Equal(PushSaveOutcome.Created, await Store.SaveAsync(Device("ann", "https://push.test/b", 2), 10, Ct));
        Assert.Equal(PushSaveOutcome.Created, await Store.SaveAsync(Device("ann", "https://push.test/a", 1), 10, Ct));
        Assert.Equal(PushSaveOutcome.Created, await Store.SaveAsync(Device("bob", "https://push.test/c"), 10, Ct));

        var ann = await Store.ListAsync("ann", Ct);

        Assert.Equal(["https://push.test/a", "https://push.test/b"], ann.Select(s => s.Endpoint));
        Assert.Equal(Device("ann", "https://push.test/a", 1), ann[0]);
        Assert.Single(await Store.ListAsync("bob", Ct));
    }

    [Fact]
    public async Task Save_SameEndpointAgain_UpdatesKeysKeepsOneRow()
    {
        await Store.SaveAsync(Device("ann", "https://push.test/x"), 10, Ct);

        var outcome = await Store.SaveAsync(Device("ann", "https://push.test/x", 5, auth: "auth-2"), 10, Ct);

        Assert.Equal(PushSaveOutcome.Updated, outcome);
        var only = Assert.Single(await Store.ListAsync("ann", Ct));
        Assert.Equal("auth-2", only.Auth);
        Assert.Equal(Now, only.CreatedAt);
    }

    [Fact]
    public async Task Save_EndpointOfAnotherUser_MovesToTheNewUser()
    {
        await Store.SaveAsync(Device("ann", "https://push.test/shared"), 10, Ct);

        Assert.Equal(PushSaveOutcome.Updated, await Store.SaveAsync(Device("bob", "https://push.test/shared"), 10, Ct));

        Assert.Empty(await Store.ListAsync("ann", Ct));
        Assert.Single(await Store.ListAsync("bob", Ct));
    }

    [Fact]
    public async Task Save_AtTheLimit_NewRefusedKnownStillUpdated()
    {
        Assert.Equal(PushSaveOutcome.Created, await Store.SaveAsync(Device("ann", "https://push.test/1"), 2, Ct));
        Assert.Equal(PushSaveOutcome.Created, await Store.SaveAsync(Device("ann", "https://push.test/2"), 2, Ct));

        Assert.Equal(PushSaveOutcome.LimitReached, await Store.SaveAsync(Device("ann", "https://push.test/3"), 2, Ct));
        Assert.Equal(PushSaveOutcome.Updated, await Store.SaveAsync(Device("ann", "https://push.test/2", auth: "new"), 2, Ct));
        Assert.Equal(2, (await Store.ListAsync("ann", Ct)).Count);
    }

    [Fact]
    public async Task Delete_OwnId_RemovesOthersIdIsFalse()
    {
        var device = Device("ann", "https://push.test/d");
        await Store.SaveAsync(device, 10, Ct);

        Assert.False(await Store.DeleteAsync("bob", device.Id, Ct));
        Assert.True(await Store.DeleteAsync("ann", device.Id, Ct));
        Assert.False(await Store.DeleteAsync("ann", device.Id, Ct));
        Assert.Empty(await Store.ListAsync("ann", Ct));
    }

    [Fact]
    public async Task DeleteByEndpoint_RemovesWhoeverOwnsIt()
    {
        await Store.SaveAsync(Device("ann", "https://push.test/gone"), 10, Ct);

        Assert.True(await Store.DeleteByEndpointAsync("https://push.test/gone", Ct));
        Assert.False(await Store.DeleteByEndpointAsync("https://push.test/gone", Ct));
        Assert.Empty(await Store.ListAsync("ann", Ct));
    }
}

public sealed class SqlitePushSubscriptionStoreTests : PushSubscriptionStoreContractTests
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"notify-push-{Guid.NewGuid():N}.db");
    private SqliteDatabase? _database;

    protected override Task<IPushSubscriptionStore> CreateStoreAsync()
    {
        _database = new SqliteDatabase(_path, TimeSpan.FromSeconds(10), 4, SqliteSynchronousMode.Normal);
        return Task.FromResult<IPushSubscriptionStore>(new SqlitePushSubscriptionStore(_database));
    }

    public override async ValueTask DisposeAsync()
    {
        _database?.Dispose();
        TestEnvironment.DeleteSqliteFiles(_path);
        await base.DisposeAsync();
    }
}

/// <summary>The push subscription contract against a real MongoDB server; skipped where <c>NOTIFY_TEST_MONGODB</c> is unset.</summary>
public sealed class MongoPushSubscriptionStoreTests : PushSubscriptionStoreContractTests
{
    private MongoTestDatabase? _database;

    protected override Task<IPushSubscriptionStore> CreateStoreAsync()
    {
        _database = MongoTestDatabase.CreateOrSkip();
        return Task.FromResult<IPushSubscriptionStore>(new MongoPushSubscriptionStore(_database.Database));
    }

    public override async ValueTask DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
        await base.DisposeAsync();
    }
}
