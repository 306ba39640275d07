using Notify.Core.Notifications;
using Notify.Core.Storage.Mongo;

namespace Notify.Tests.Storage;

/// <summary>The store contract against a real MongoDB server; skipped where <c>NOTIFY_TEST_MONGODB</c> is unset.</summary>
public sealed class MongoNotificationStoreTests : NotificationStoreContractTests
{
    private MongoTestDatabase? _database;

    protected override Task<INotificationStore> CreateStoreAsync()
    {
        _database = MongoTestDatabase.CreateOrSkip();
        return Task.FromResult<INotificationStore>(new MongoNotificationStore(_database.Database));
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
