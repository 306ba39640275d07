using Notify.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Notify.Core.Settings;
using Notify.Core.Storage;
using Notify.Core.Storage.Sqlite;
using Notify.Core.Tasks;

namespace Notify.Tests.Tasks;

/// <summary>The queue's effective limits follow the runtime settings (real SQLite settings store shared by two services).</summary>
public sealed class QueueSettingsTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"notify-queue-settings-{Guid.NewGuid():N}.db");
    private readonly List<SqliteDatabase> _databases = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<RuntimeSettings> RuntimeAsync(Dictionary<string, string?> configuration)
    {
        var database = new SqliteDatabase(_path, TimeSpan.FromSeconds(10), 2, SqliteSynchronousMode.Normal);
        _databases.Add(database);
        var store = new SqliteSettingsStore(database);
        await store.InitializeAsync(Ct);
        return new RuntimeSettings(store, new ConfigurationBuilder().AddInMemoryCollection(configuration).Build(), TimeProvider.System, NullLogger<RuntimeSettings>.Instance);
    }

    public void Dispose()
    {
        foreach (var database in _databases)
        {
            database.Dispose();
        }
        TestEnvironment.DeleteSqliteFiles(_path);
    }

    [Fact]
    public async Task Current_StoredRuntimeSetting_OverridesConfigurationInEveryService()
    {
        var configuration = new Dictionary<string, string?> { ["Queue:PerUserConcurrency"] = "4", ["Queue:GlobalConcurrency"] = "12" };
        var options = new QueueOptions { PerUserConcurrency = 4, GlobalConcurrency = 12, VisibilityTimeout = TimeSpan.FromSeconds(7), MaxAttempts = 5 };
        var api = await RuntimeAsync(configuration);
        var worker = await RuntimeAsync(configuration);
        var workerSettings = new QueueSettings(new StaticMonitor(options), worker);

        Assert.Equal(new QueueLimits(4, 12, TimeSpan.FromSeconds(7), 5), workerSettings.Current);

        var update = await api.UpdateAsync(new Dictionary<string, long?> { ["Queue:GlobalConcurrency"] = 2, ["Queue:PerUserConcurrency"] = 1 }, null, Ct);
        Assert.Equal(RuntimeSettingsUpdateStatus.Success, update.Status);
        await worker.RefreshAsync(Ct);

        Assert.Equal(new QueueLimits(1, 2, TimeSpan.FromSeconds(7), 5), workerSettings.Current);
        Assert.Equal(new QueueLimits(4, 12, TimeSpan.FromSeconds(7), 5), new QueueSettings(new StaticMonitor(options)).Current);
    }

    private sealed class StaticMonitor(QueueOptions value) : IOptionsMonitor<QueueOptions>
    {
        public QueueOptions CurrentValue => value;
        public QueueOptions Get(string? name) => value;
        public IDisposable? OnChange(Action<QueueOptions, string?> listener) => null;
    }
}
