using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Notify.Core.Notifications;
using Notify.Core.Settings;
using Notify.Core.Storage;
using Notify.Core.Storage.Mongo;
using Notify.Core.Storage.Sqlite;

namespace Notify.Tests.Storage;

public sealed class StoreExtensionsTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"notify-di-{Guid.NewGuid():N}");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private IHost Build(Dictionary<string, string?> configuration)
    {
        Directory.CreateDirectory(_directory);
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = _directory });
        builder.Configuration.AddInMemoryCollection(configuration);
        builder.AddNotifyStore();
        return builder.Build();
    }

    [Fact]
    public async Task AddNotificationStore_WithoutMongo_StartsOnTheSqliteFileWithSchema()
    {
        using var host = Build(new() { ["Store:SqlitePath"] = "data/notify.db", ["Retention:Days"] = "9" });

        await host.StartAsync(Ct);
        try
        {
            var store = host.Services.GetRequiredService<INotificationStore>();
            var ids = host.Services.GetRequiredService<NotificationIds>();
            var notification = new Notification { Id = ids.Next(), UserId = "di-user", Type = "t", Title = "t", CreatedAt = TimeProvider.System.GetUtcNow() };
            await store.CreateAsync(notification, null, Ct);

            Assert.IsType<SqliteNotificationStore>(store);
            Assert.IsType<SqliteSettingsStore>(host.Services.GetRequiredService<ISettingsStore>());
            Assert.Equal(notification.Id, (await store.GetAsync("di-user", notification.Id, Ct))?.Id);
            Assert.True(File.Exists(Path.Combine(_directory, "data", "notify.db")));
            Assert.Equal(9, host.Services.GetRequiredService<RuntimeSettings>().Get(RuntimeSettingKeys.RetentionDays));
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public void AddNotificationStore_MongoConnectionString_SelectsTheMongoAdapters()
    {
        // The driver connects lazily, so resolving needs no server.
        using var host = Build(new() { ["ConnectionStrings:notifydb"] = "mongodb://127.0.0.1:1/notify_di?serverSelectionTimeoutMS=100" });

        Assert.IsType<MongoNotificationStore>(host.Services.GetRequiredService<INotificationStore>());
        Assert.IsType<MongoSettingsStore>(host.Services.GetRequiredService<ISettingsStore>());
    }

    [Theory]
    [InlineData("Store:SqliteMaxConnections", "0", "SqliteMaxConnections")]
    [InlineData("Store:SqliteBusyTimeout", "00:20:00", "SqliteBusyTimeout")]
    [InlineData("Store:MongoDatabase", "bad name", "MongoDatabase")]
    [InlineData("RuntimeSettings:RefreshInterval", "00:00:00", "RefreshInterval")]
    public async Task AddNotificationStore_InvalidOption_FailsAtStartNamingTheKey(string key, string value, string named)
    {
        using var host = Build(new() { ["Store:SqlitePath"] = "notify.db", [key] = value });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Ct));

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddNotificationStore_RuntimeSettingOutOfRangeInConfiguration_FailsAtStart()
    {
        using var host = Build(new() { ["Store:SqlitePath"] = "notify.db", ["Sse:TaskMaxIdleSeconds"] = "1" });

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(Ct));

        Assert.Contains("Sse:TaskMaxIdleSeconds", error.Message, StringComparison.Ordinal);
    }
}
