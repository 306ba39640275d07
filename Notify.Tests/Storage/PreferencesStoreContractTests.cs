using Notify.Core.Preferences;
using Notify.Core.Storage;
using Notify.Core.Storage.Mongo;
using Notify.Core.Storage.Sqlite;
using Notify.Tests.Infrastructure;

namespace Notify.Tests.Storage;

/// <summary>The behaviour every <see cref="IPreferencesStore"/> adapter must have; subclasses supply fresh storage.</summary>
public abstract class PreferencesStoreContractTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    protected IPreferencesStore Store { get; private set; } = null!;

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected abstract Task<IPreferencesStore> CreateStoreAsync();

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

    private static NotificationPreferences Preferences(string type, DeliveryMode mode, QuietHours? quiet = null) => new()
    {
        Types = new Dictionary<string, IReadOnlyDictionary<string, DeliveryMode>>(StringComparer.Ordinal)
        {
            [type] = new Dictionary<string, DeliveryMode>(StringComparer.Ordinal) { [PreferenceChannels.InApp] = mode },
        },
        QuietHours = quiet,
    };

    [Fact]
    public async Task GetAsync_NothingStored_ReturnsVersionZeroAndNoChoices()
    {
        var stored = await Store.GetAsync("nobody", Ct);

        Assert.Equal(0, stored.Version);
        Assert.Empty(stored.Preferences.Types);
        Assert.Null(stored.Preferences.QuietHours);
    }

    [Fact]
    public async Task TryPutAsync_RoundTripsPerOwner_AndVersions()
    {
        var quiet = new QuietHours("22:00", "07:00", "Europe/Berlin");

        var first = await Store.TryPutAsync("olga", Preferences("billing", DeliveryMode.Off, quiet), 0, Now, Ct);
        var defaults = await Store.TryPutAsync(IPreferencesStore.DefaultsOwner, Preferences("*", DeliveryMode.Inbox), 0, Now, Ct);
        var second = await Store.TryPutAsync("olga", Preferences("chat", DeliveryMode.Inbox), 1, Now.AddMinutes(1), Ct);
        var read = await Store.GetAsync("olga", Ct);

        Assert.Equal(1, first!.Version);
        Assert.Equal(1, defaults!.Version);
        Assert.Equal(2, second!.Version);
        Assert.Equal(2, read.Version);
        Assert.Equal(Now.AddMinutes(1), read.UpdatedAt);
        Assert.Equal(DeliveryMode.Inbox, read.Preferences.Types["chat"][PreferenceChannels.InApp]);
        Assert.False(read.Preferences.Types.ContainsKey("billing"));
        Assert.Null(read.Preferences.QuietHours);
        Assert.Equal(PreferenceResolver.Serialize(second.Preferences), PreferenceResolver.Serialize(read.Preferences));
        Assert.Equal(DeliveryMode.Inbox, (await Store.GetAsync(IPreferencesStore.DefaultsOwner, Ct)).Preferences.Types["*"][PreferenceChannels.InApp]);
    }

    [Fact]
    public async Task TryPutAsync_QuietHours_RoundTrip()
    {
        var quiet = new QuietHours("22:00", "07:00", "America/New_York");

        await Store.TryPutAsync("quiet", Preferences("*", DeliveryMode.Live, quiet), 0, Now, Ct);

        Assert.Equal(quiet, (await Store.GetAsync("quiet", Ct)).Preferences.QuietHours);
    }

    [Fact]
    public async Task TryPutAsync_StaleVersion_StoresNothing()
    {
        await Store.TryPutAsync("olga", Preferences("billing", DeliveryMode.Off), 0, Now, Ct);

        Assert.Null(await Store.TryPutAsync("olga", Preferences("billing", DeliveryMode.Live), 0, Now, Ct));
        Assert.Null(await Store.TryPutAsync("olga", Preferences("billing", DeliveryMode.Live), 5, Now, Ct));
        Assert.Null(await Store.TryPutAsync("ivan", Preferences("billing", DeliveryMode.Live), 1, Now, Ct));
        Assert.Equal(DeliveryMode.Off, (await Store.GetAsync("olga", Ct)).Preferences.Types["billing"][PreferenceChannels.InApp]);
        Assert.Equal(0, (await Store.GetAsync("ivan", Ct)).Version);
    }

    [Fact]
    public async Task TryPutAsync_ConcurrentWritersOfOneVersion_OneWins()
    {
        var writes = Enumerable.Range(0, 10).Select(i =>
            Task.Run(() => Store.TryPutAsync("race", Preferences("t" + i, DeliveryMode.Off), 0, Now, Ct), Ct)).ToList();

        var results = await Task.WhenAll(writes);

        var winner = Assert.Single(results, r => r is not null);
        Assert.Equal(
            PreferenceResolver.Serialize(winner!.Preferences),
            PreferenceResolver.Serialize((await Store.GetAsync("race", Ct)).Preferences));
    }
}

public sealed class SqlitePreferencesStoreTests : PreferencesStoreContractTests
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"notify-preferences-{Guid.NewGuid():N}.db");
    private SqliteDatabase? _database;

    protected override Task<IPreferencesStore> CreateStoreAsync()
    {
        _database = new SqliteDatabase(_path, TimeSpan.FromSeconds(10), 4, SqliteSynchronousMode.Normal);
        return Task.FromResult<IPreferencesStore>(new SqlitePreferencesStore(_database));
    }

    public override async ValueTask DisposeAsync()
    {
        _database?.Dispose();
        TestEnvironment.DeleteSqliteFiles(_path);
        await base.DisposeAsync();
    }
}

/// <summary>The preferences contract against a real MongoDB server; skipped where <c>NOTIFY_TEST_MONGODB</c> is unset.</summary>
public sealed class MongoPreferencesStoreTests : PreferencesStoreContractTests
{
    private MongoTestDatabase? _database;

    protected override Task<IPreferencesStore> CreateStoreAsync()
    {
        _database = MongoTestDatabase.CreateOrSkip();
        return Task.FromResult<IPreferencesStore>(new MongoPreferencesStore(_database.Database));
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

/// <summary>Which mode applies: the user's choice, the admin's default, quiet hours.</summary>
public sealed class PreferenceResolverTests
{
    private static readonly DateTimeOffset Noon = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    private static NotificationPreferences With(params (string Type, DeliveryMode Mode)[] entries) => new()
    {
        Types = entries.ToDictionary(
            e => e.Type,
            e => (IReadOnlyDictionary<string, DeliveryMode>)new Dictionary<string, DeliveryMode> { [PreferenceChannels.InApp] = e.Mode },
            StringComparer.Ordinal),
    };

    [Fact]
    public void Resolve_UserTypeThenUserAnyThenDefaultsThenLive()
    {
        var defaults = With(("billing", DeliveryMode.Off), ("*", DeliveryMode.Inbox));

        Assert.Equal(DeliveryMode.Live, PreferenceResolver.Resolve(NotificationPreferences.Empty, NotificationPreferences.Empty, "x", PreferenceChannels.InApp, Noon));
        Assert.Equal(DeliveryMode.Off, PreferenceResolver.Resolve(NotificationPreferences.Empty, defaults, "billing", PreferenceChannels.InApp, Noon));
        Assert.Equal(DeliveryMode.Inbox, PreferenceResolver.Resolve(NotificationPreferences.Empty, defaults, "chat", PreferenceChannels.InApp, Noon));
        Assert.Equal(DeliveryMode.Live, PreferenceResolver.Resolve(With(("billing", DeliveryMode.Live)), defaults, "billing", PreferenceChannels.InApp, Noon));
        Assert.Equal(DeliveryMode.Off, PreferenceResolver.Resolve(With(("*", DeliveryMode.Off)), defaults, "chat", PreferenceChannels.InApp, Noon));
        Assert.Equal(DeliveryMode.Live, PreferenceResolver.Resolve(With(("*", DeliveryMode.Off)), defaults, "chat", "push", Noon));
    }

    [Theory]
    [InlineData("22:00", "07:00", "UTC", 23, true)]
    [InlineData("22:00", "07:00", "UTC", 6, true)]
    [InlineData("22:00", "07:00", "UTC", 7, false)]
    [InlineData("22:00", "07:00", "UTC", 12, false)]
    [InlineData("09:00", "17:00", "UTC", 9, true)]
    [InlineData("09:00", "17:00", "UTC", 17, false)]
    [InlineData("13:00", "14:00", "Europe/Berlin", 12, true)] // 12:00 UTC is 13:00 in Berlin in November
    [InlineData("13:00", "14:00", "Europe/Berlin", 13, false)]
    public void Resolve_QuietHours_LiveActsAsInbox_OffStaysOff(string start, string end, string zone, int utcHour, bool quiet)
    {
        var at = new DateTimeOffset(2026, 11, 1, utcHour, 0, 0, TimeSpan.Zero);
        var user = With(("billing", DeliveryMode.Off)) with { QuietHours = new QuietHours(start, end, zone) };

        Assert.Equal(quiet ? DeliveryMode.Inbox : DeliveryMode.Live, PreferenceResolver.Resolve(user, NotificationPreferences.Empty, "chat", PreferenceChannels.InApp, at));
        Assert.Equal(DeliveryMode.Off, PreferenceResolver.Resolve(user, NotificationPreferences.Empty, "billing", PreferenceChannels.InApp, at));
    }
}
