using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using MongoDB.Driver;
using Notify.Core.Storage;
using Notify.Core.Storage.Mongo;
using Notify.Core.Storage.Sqlite;

namespace Notify.Core.Push;

/// <summary>Registers <see cref="IPushSubscriptionStore"/> on the store's backend and <see cref="PushOptions"/> (validated at start).</summary>
public static class PushExtensions
{
    /// <summary>Call after <see cref="StoreExtensions.AddNotificationStore"/>: the SQLite database or MongoDB client is shared.</summary>
    public static IHostApplicationBuilder AddPushSubscriptions(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<PushOptions>()
            .BindConfiguration(PushOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<PushOptions>, PushOptionsValidator>();
        if (builder.Configuration.GetConnectionString(StoreExtensions.MongoConnectionName) is { Length: > 0 })
        {
            builder.Services.AddSingleton<IPushSubscriptionStore>(sp => new MongoPushSubscriptionStore(
                sp.GetService<IMongoDatabase>()
                ?? sp.GetRequiredService<IMongoClient>().GetDatabase(sp.GetRequiredService<IOptions<StoreOptions>>().Value.MongoDatabase)));
        }
        else
        {
            builder.Services.AddSingleton<IPushSubscriptionStore, SqlitePushSubscriptionStore>();
        }
        builder.Services.AddHostedService<PushStoreInitializer>();
        return builder;
    }

    private sealed class PushOptionsValidator : IValidateOptions<PushOptions>
    {
        public ValidateOptionsResult Validate(string? name, PushOptions options) =>
            options.Problem() is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;
    }

    // Runs after the store's own initializer (registered later), so the database is reachable by then.
    private sealed class PushStoreInitializer(IPushSubscriptionStore store) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => store.InitializeAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
