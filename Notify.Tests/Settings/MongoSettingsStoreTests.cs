using Notify.Core.Settings;
using Notify.Core.Storage.Mongo;
using Notify.Tests.Storage;

namespace Notify.Tests.Settings;

/// <summary>The settings contract against a real MongoDB server; skipped where <c>NOTIFY_TEST_MONGODB</c> is unset.</summary>
public sealed class MongoSettingsStoreTests : SettingsStoreContractTests
{
    private MongoTestDatabase? _database;

    protected override Task<ISettingsStore> CreateStoreAsync()
    {
        _database = MongoTestDatabase.CreateOrSkip();
        return Task.FromResult<ISettingsStore>(new MongoSettingsStore(_database.Database));
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
