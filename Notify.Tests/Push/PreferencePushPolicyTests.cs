using Microsoft.Extensions.Time.Testing;
using Notify.Core.Messaging;
using Notify.Core.Notifications;
using Notify.Core.Preferences;
using Notify.Core.Presence;
using Notify.Core.Storage;
using Notify.Core.Storage.Sqlite;
using Notify.Tests.Infrastructure;
using Notify.Worker.Push;
using StackExchange.Redis;

namespace Notify.Tests.Push;

/// <summary>
/// The default push policy on a real SQLite preferences store and real Redis presence: the <c>push</c>
/// preference must resolve to live (user entry, <c>*</c>, defaults, quiet hours) and the user must be offline.
/// </summary>
public sealed class PreferencePushPolicyTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private static readonly DateTimeOffset Noon = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"notify-push-prefs-{Guid.NewGuid():N}.db");
    private SqliteDatabase _database = null!;
    private SqlitePreferencesStore _preferences = null!;
    private ConnectionMultiplexer _redis = null!;
    private RedisPresence _presence = null!;
    private readonly FakeTimeProvider _time = new(Noon);
    private readonly string _instance = "rt-" + Guid.NewGuid().ToString("N");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _database = new SqliteDatabase(_path, TimeSpan.FromSeconds(10), 4, SqliteSynchronousMode.Normal);
        _preferences = new SqlitePreferencesStore(_database);
        await _preferences.InitializeAsync(Ct);
        _redis = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        _presence = new RedisPresence(_redis, new RedisChannels(), TimeProvider.System);
    }

    public async ValueTask DisposeAsync()
    {
        await _presence.RemoveAsync(_instance, CancellationToken.None);
        await _redis.DisposeAsync();
        _database.Dispose();
        TestEnvironment.DeleteSqliteFiles(_path);
    }

    private PreferencePushPolicy Policy() => new(_preferences, _presence, _time);

    private static Notification For(string user, string type) => new() { Id = "01", UserId = user, Type = type, Title = "t", CreatedAt = Noon };

    private static NotificationPreferences Push(params (string Type, DeliveryMode Mode)[] entries) => new()
    {
        Types = entries.ToDictionary(e => e.Type, IReadOnlyDictionary<string, DeliveryMode> (e) => new Dictionary<string, DeliveryMode> { [PreferenceChannels.Push] = e.Mode }, StringComparer.Ordinal),
    };

    private async Task StoreAsync(string owner, NotificationPreferences preferences)
    {
        var current = await _preferences.GetAsync(owner, Ct);
        Assert.NotNull(await _preferences.TryPutAsync(owner, preferences, current.Version, Noon, Ct));
    }

    [Fact]
    public async Task ShouldPush_NothingChosenAndOffline_Pushes_Online_DoesNot()
    {
        var user = "p-" + Guid.NewGuid().ToString("N");
        Assert.True(await Policy().ShouldPushAsync(For(user, "build"), Ct));

        await _presence.PublishAsync(new InstancePresence
        {
            Id = _instance, StartedAt = Noon, Connections = 1, UserConnections = 1,
            Users = new Dictionary<string, int> { [user] = 1 },
        }, TimeSpan.FromMinutes(5), Ct);

        Assert.False(await Policy().ShouldPushAsync(For(user, "build"), Ct));
    }

    [Fact]
    public async Task ShouldPush_PushOffOrInboxForTheType_NeverPushes_OtherTypeDoes()
    {
        var user = "p-" + Guid.NewGuid().ToString("N");
        await StoreAsync(user, Push(("marketing", DeliveryMode.Off), ("digest", DeliveryMode.Inbox)));

        Assert.False(await Policy().ShouldPushAsync(For(user, "marketing"), Ct));
        Assert.False(await Policy().ShouldPushAsync(For(user, "digest"), Ct));
        Assert.True(await Policy().ShouldPushAsync(For(user, "build"), Ct));
    }

    [Fact]
    public async Task ShouldPush_DefaultOff_UserLiveWins_QuietHoursHoldItBack()
    {
        var type = "alerts-" + Guid.NewGuid().ToString("N")[..8];
        var user = "p-" + Guid.NewGuid().ToString("N");
        var other = "p-" + Guid.NewGuid().ToString("N");
        await StoreAsync(IPreferencesStore.DefaultsOwner, Push((type, DeliveryMode.Off)));
        await StoreAsync(user, Push((type, DeliveryMode.Live)));

        Assert.False(await Policy().ShouldPushAsync(For(other, type), Ct));
        Assert.True(await Policy().ShouldPushAsync(For(user, type), Ct));

        await StoreAsync(user, Push((type, DeliveryMode.Live)) with { QuietHours = new QuietHours("11:00", "13:00", "UTC") });
        Assert.False(await Policy().ShouldPushAsync(For(user, type), Ct));
        _time.Advance(TimeSpan.FromHours(2));
        Assert.True(await Policy().ShouldPushAsync(For(user, type), Ct));
    }
}
