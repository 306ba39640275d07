using Notify.Tests.Infrastructure;
using Notify.Core.Settings;
using Notify.Core.Storage;
using Notify.Core.Storage.Sqlite;

namespace Notify.Tests.Settings;

public sealed class SqliteSettingsStoreTests : SettingsStoreContractTests
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"notify-settings-{Guid.NewGuid():N}.db");
    private SqliteDatabase? _database;

    protected override Task<ISettingsStore> CreateStoreAsync()
    {
        _database = new SqliteDatabase(_path, TimeSpan.FromSeconds(10), 4, SqliteSynchronousMode.Normal);
        return Task.FromResult<ISettingsStore>(new SqliteSettingsStore(_database));
    }

    public override async ValueTask DisposeAsync()
    {
        _database?.Dispose();
        TestEnvironment.DeleteSqliteFiles(_path);
        await base.DisposeAsync();
    }
}
