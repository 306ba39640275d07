using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MongoDB.Driver;
using Notify.Core.Notifications;
using Notify.Core.Preferences;
using Notify.Core.Push;
using Notify.Core.Settings;
using Notify.Core.Storage.Mongo;
using Notify.Core.Storage.Sqlite;

namespace Notify.Core.Storage;

/// <summary>Registers the notification store and the runtime settings on the backend that configuration selects.</summary>
public static class StoreExtensions
{
    /// <summary>The connection string name that selects MongoDB (Aspire's <c>ConnectionStrings__notifydb</c>).</summary>
    public const string MongoConnectionName = "notifydb";

    /// <summary>
    /// Registers <see cref="INotificationStore"/> (also as <see cref="IPushOutbox"/>), <see cref="ISettingsStore"/>, <see cref="IPreferencesStore"/>, <see cref="RuntimeSettings"/>
    /// (refreshed in the background), <see cref="NotificationIds"/> and <see cref="StoreOptions"/>
    /// (section <c>Store</c>, validated at start). With
    /// <c>ConnectionStrings:notifydb</c> set the backend is MongoDB, on the <see cref="IMongoDatabase"/> (or
    /// <see cref="IMongoClient"/>) the host registers (the services do it through <c>AddNotifyStore</c> in
    /// the service defaults); otherwise it is the SQLite file at <see cref="StoreOptions.SqlitePath"/>.
    /// A hosted service creates the schema and indexes at start-up.
    /// </summary>
    public static IHostApplicationBuilder AddNotificationStore(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<StoreOptions>()
            .BindConfiguration(StoreOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<NotificationIds>();

        if (UsesMongo(builder))
        {
            AddMongo(builder);
        }
        else
        {
            AddSqlite(builder);
        }

        services.AddHostedService<StoreInitializer>();

        services.AddOptions<RuntimeSettingsOptions>()
            .BindConfiguration(RuntimeSettingsOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton<RuntimeSettings>();
        // Registered after the initializer, so the first read finds the schema.
        services.AddHostedService<RuntimeSettingsRefresher>();
        return builder;
    }

    /// <summary>The SQLite file <paramref name="options"/> names, resolved against <paramref name="contentRoot"/>.</summary>
    public static string ResolveSqlitePath(StoreOptions options, string contentRoot)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!string.IsNullOrWhiteSpace(options.SqlitePath))
        {
            return Path.GetFullPath(options.SqlitePath, contentRoot);
        }
        var shared = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify);
        return string.IsNullOrEmpty(shared)
            ? Path.Combine(contentRoot, "data", "notify.db")
            : Path.Combine(shared, "notify", "notify.db");
    }

    private static void AddSqlite(IHostApplicationBuilder builder)
    {
        var contentRoot = builder.Environment.ContentRootPath;
        builder.Services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<StoreOptions>>().Value;
            var path = ResolveSqlitePath(options, contentRoot);
            var database = new SqliteDatabase(
                path, options.SqliteBusyTimeout, options.SqliteMaxConnections, options.SqliteSynchronous,
                options.SqliteWriteQueueCapacity, options.SqliteMaxWriteBatch, options.SqliteMmapSize);
            StoreLog.SqliteFile(sp.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(StoreExtensions).FullName!), database.Path);
            return database;
        });
        builder.Services.AddSingleton<SqliteNotificationStore>();
        builder.Services.AddSingleton<INotificationStore>(sp => sp.GetRequiredService<SqliteNotificationStore>());
        builder.Services.AddSingleton<IPushOutbox>(sp => sp.GetRequiredService<SqliteNotificationStore>());
        builder.Services.AddSingleton<ISettingsStore, SqliteSettingsStore>();
        builder.Services.AddSingleton<IPreferencesStore, SqlitePreferencesStore>();
    }

    /// <summary>Whether configuration selects MongoDB (<c>ConnectionStrings:notifydb</c> is set).</summary>
    public static bool UsesMongo(IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Configuration.GetConnectionString(MongoConnectionName) is { Length: > 0 };
    }

    private static void AddMongo(IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(sp => new MongoNotificationStore(NotifyDatabase(sp)));
        builder.Services.AddSingleton<INotificationStore>(sp => sp.GetRequiredService<MongoNotificationStore>());
        builder.Services.AddSingleton<IPushOutbox>(sp => sp.GetRequiredService<MongoNotificationStore>());
        builder.Services.AddSingleton<ISettingsStore>(sp => new MongoSettingsStore(NotifyDatabase(sp)));
        builder.Services.AddSingleton<IPreferencesStore>(sp => new MongoPreferencesStore(NotifyDatabase(sp)));
    }

    // The database the connection string's path names, else Store:MongoDatabase.
    private static IMongoDatabase NotifyDatabase(IServiceProvider services) =>
        services.GetService<IMongoDatabase>()
        ?? services.GetRequiredService<IMongoClient>().GetDatabase(services.GetRequiredService<IOptions<StoreOptions>>().Value.MongoDatabase);
}
