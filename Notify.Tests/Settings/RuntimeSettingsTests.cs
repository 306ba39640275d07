using Notify.Tests.Infrastructure;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Notify.Core.Settings;
using Notify.Core.Storage;
using Notify.Core.Storage.Sqlite;

namespace Notify.Tests.Settings;

/// <summary>Runtime settings over a real SQLite settings store shared by two "services".</summary>
public sealed class RuntimeSettingsTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"notify-runtime-{Guid.NewGuid():N}.db");
    private readonly List<SqliteDatabase> _databases = [];
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<RuntimeSettings> CreateAsync(Dictionary<string, string?>? configuration = null)
    {
        var database = new SqliteDatabase(_path, TimeSpan.FromSeconds(10), 4, SqliteSynchronousMode.Normal);
        _databases.Add(database);
        var store = new SqliteSettingsStore(database);
        await store.InitializeAsync(Ct);
        var config = new ConfigurationBuilder().AddInMemoryCollection(configuration ?? []).Build();
        return new RuntimeSettings(store, config, _time, NullLogger<RuntimeSettings>.Instance);
    }

    private static Dictionary<string, long?> Changes(params (string Key, long? Value)[] pairs) =>
        pairs.ToDictionary(p => p.Key, p => p.Value);

    public void Dispose()
    {
        foreach (var database in _databases)
        {
            database.Dispose();
        }
        TestEnvironment.DeleteSqliteFiles(_path);
    }

    [Fact]
    public async Task Get_NothingStored_ReturnsConfigurationElseBuiltInDefault()
    {
        var settings = await CreateAsync(new() { ["Retention:Days"] = "14" });

        var view = await settings.RefreshAsync(Ct);

        Assert.Equal(14, settings.Get(RuntimeSettingKeys.RetentionDays));
        Assert.Equal(TimeSpan.FromDays(14), settings.GetDuration(RuntimeSettingKeys.RetentionDays));
        Assert.Equal(30, settings.GetInt32(RuntimeSettingKeys.RealtimeHeartbeatInterval));
        Assert.Equal(0, view.Version);
        Assert.Equal(RuntimeSettingSource.Configuration, view.Settings.Single(s => s.Key == "Retention:Days").Source);
        Assert.Equal(RuntimeSettingSource.Default, view.Settings.Single(s => s.Key == "Realtime:HeartbeatIntervalSeconds").Source);
        Assert.Equal(RuntimeSettingKeys.All.Select(s => s.Key), view.Settings.Select(s => s.Key));
    }

    [Theory]
    [InlineData("Retention:Days", "0")]
    [InlineData("Retention:Days", "abc")]
    [InlineData("Realtime:HeartbeatIntervalSeconds", "100000")]
    public async Task Constructor_ConfigurationOutOfRange_ThrowsNamingTheKey(string key, string value)
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => CreateAsync(new() { [key] = value }));

        Assert.Contains(key, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpdateAsync_ValidChange_StoresAndAppliesAtOnce()
    {
        var settings = await CreateAsync();
        var changed = 0;
        using var subscription = settings.OnChange(() => Interlocked.Increment(ref changed));

        var result = await settings.UpdateAsync(Changes(("Sse:TaskMaxIdleSeconds", 120), ("Retention:KeepPerUser", 0)), expectedVersion: 0, Ct);

        Assert.Equal(RuntimeSettingsUpdateStatus.Success, result.Status);
        Assert.Equal(1, result.View!.Version);
        Assert.Equal(TimeSpan.FromSeconds(120), settings.GetDuration(RuntimeSettingKeys.SseTaskMaxIdle));
        Assert.Equal(0, settings.Get(RuntimeSettingKeys.RetentionKeepPerUser));
        Assert.Equal(RuntimeSettingSource.Database, result.View.Settings.Single(s => s.Key == "Sse:TaskMaxIdleSeconds").Source);
        Assert.Equal(1, Volatile.Read(ref changed));
    }

    [Fact]
    public async Task UpdateAsync_UnknownKeyAndOutOfRange_RefusesNamingEachKeyAndStoresNothing()
    {
        var settings = await CreateAsync();

        var result = await settings.UpdateAsync(Changes(("Nope:Key", 1), ("Retention:Days", 0), ("Sse:PollTimeoutSeconds", 61), ("Queue:GlobalConcurrency", 5)), null, Ct);

        Assert.Equal(RuntimeSettingsUpdateStatus.Invalid, result.Status);
        Assert.Equal(["Nope:Key", "Retention:Days", "Sse:PollTimeoutSeconds"], result.Errors.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("between 1 and 3650", result.Errors["Retention:Days"][0], StringComparison.Ordinal);
        Assert.Equal(0, (await settings.RefreshAsync(Ct)).Version);
        Assert.Equal(20, settings.Get(RuntimeSettingKeys.QueueGlobalConcurrency));
    }

    [Theory]
    [InlineData("\"30\"")]
    [InlineData("1.5")]
    [InlineData("true")]
    [InlineData("{}")]
    public async Task UpdateAsync_JsonNotAnInteger_RefusesNamingTheKey(string json)
    {
        var settings = await CreateAsync();
        using var value = JsonDocument.Parse(json);

        var result = await settings.UpdateAsync(new Dictionary<string, JsonElement> { ["Retention:Days"] = value.RootElement.Clone() }, null, Ct);

        Assert.Equal(RuntimeSettingsUpdateStatus.Invalid, result.Status);
        Assert.True(result.Errors.ContainsKey("Retention:Days"));
    }

    [Fact]
    public async Task UpdateAsync_JsonNull_DropsStoredValueBackToConfiguration()
    {
        var settings = await CreateAsync(new() { ["Retention:Days"] = "14" });
        await settings.UpdateAsync(Changes(("Retention:Days", 3), ("Retention:KeepPerUser", 50)), null, Ct);
        using var body = JsonDocument.Parse("""{"retention:days": null}""");

        var result = await settings.UpdateAsync(body.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone()), null, Ct);

        Assert.Equal(RuntimeSettingsUpdateStatus.Success, result.Status);
        Assert.Equal(14, settings.Get(RuntimeSettingKeys.RetentionDays));
        Assert.Equal(50, settings.Get(RuntimeSettingKeys.RetentionKeepPerUser));
        Assert.Equal(2, settings.Version);
    }

    [Fact]
    public async Task UpdateAsync_StaleExpectedVersion_ReturnsConflictWithCurrentVersion()
    {
        var admin1 = await CreateAsync();
        var admin2 = await CreateAsync();
        await admin1.UpdateAsync(Changes(("Retention:Days", 10)), 0, Ct);

        var result = await admin2.UpdateAsync(Changes(("Retention:Days", 20)), 0, Ct);

        Assert.Equal(RuntimeSettingsUpdateStatus.Conflict, result.Status);
        Assert.Equal(1, result.CurrentVersion);
        Assert.Equal(10, (await admin2.RefreshAsync(Ct)).Settings.Single(s => s.Key == "Retention:Days").Value);
    }

    [Fact]
    public async Task UpdateAsync_ConcurrentWithoutVersion_KeepsEveryChange()
    {
        var admin1 = await CreateAsync();
        var admin2 = await CreateAsync();

        var results = await Task.WhenAll(
            Task.Run(() => admin1.UpdateAsync(Changes(("Retention:Days", 10)), null, Ct), Ct),
            Task.Run(() => admin2.UpdateAsync(Changes(("Queue:GlobalConcurrency", 99)), null, Ct), Ct));

        Assert.All(results, r => Assert.Equal(RuntimeSettingsUpdateStatus.Success, r.Status));
        var view = await admin1.RefreshAsync(Ct);
        Assert.Equal(2, view.Version);
        Assert.Equal(10, admin1.Get(RuntimeSettingKeys.RetentionDays));
        Assert.Equal(99, admin1.Get(RuntimeSettingKeys.QueueGlobalConcurrency));
    }

    [Fact]
    public async Task RuntimeSettingsRefresher_AnotherServiceStores_PickedUpOnNextTickAndChangeFires()
    {
        var api = await CreateAsync();
        var realtime = await CreateAsync();
        var refresher = new RuntimeSettingsRefresher(
            realtime, Options.Create(new RuntimeSettingsOptions { RefreshInterval = TimeSpan.FromSeconds(5) }), _time, NullLogger<RuntimeSettingsRefresher>.Instance);
        var firstRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await api.UpdateAsync(Changes(("Sse:HeartbeatIntervalSeconds", 7)), null, Ct);
        using var first = realtime.OnChange(() => firstRead.TrySetResult());

        await refresher.StartAsync(Ct);
        try
        {
            await firstRead.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
            Assert.Equal(7, realtime.Get(RuntimeSettingKeys.SseHeartbeatInterval));
            first.Dispose();
            using var second = realtime.OnChange(() => changed.TrySetResult());

            await api.UpdateAsync(Changes(("Realtime:HeartbeatIntervalSeconds", 45)), null, Ct);
            Assert.Equal(30, realtime.Get(RuntimeSettingKeys.RealtimeHeartbeatInterval));
            // Fake time: each advance fires the periodic timer once; advance until the change lands.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (!changed.Task.IsCompleted && DateTime.UtcNow < deadline)
            {
                _time.Advance(TimeSpan.FromSeconds(5));
                await Task.WhenAny(changed.Task, Task.Delay(50, Ct));
            }

            await changed.Task.WaitAsync(TimeSpan.FromSeconds(1), Ct);
            Assert.Equal(TimeSpan.FromSeconds(45), realtime.GetDuration(RuntimeSettingKeys.RealtimeHeartbeatInterval));
        }
        finally
        {
            await refresher.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public void Get_SettingOutsideTheCatalogue_Throws()
    {
        var database = new SqliteDatabase(_path, TimeSpan.FromSeconds(1), 1, SqliteSynchronousMode.Normal);
        _databases.Add(database);
        var settings = new RuntimeSettings(
            new SqliteSettingsStore(database),
            new ConfigurationBuilder().Build(), _time, NullLogger<RuntimeSettings>.Instance);

        Assert.Throws<ArgumentException>(() => settings.Get(new RuntimeSetting("X:Y", 1, 0, 2, SettingUnit.Count, "x")));
        Assert.Throws<InvalidOperationException>(() => settings.GetDuration(RuntimeSettingKeys.QueueGlobalConcurrency));
    }
}
