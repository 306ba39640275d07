using Notify.Core.Storage;

namespace Microsoft.Extensions.Hosting;

/// <summary>The notification store as every service registers it: the MongoDB client here, the adapters in Notify.Core.</summary>
public static class NotifyStoreExtensions
{
    /// <summary>
    /// With <c>ConnectionStrings:notifydb</c> set, registers the MongoDB client, database and health check
    /// (<see cref="AspireMongoDBDriverExtensions.AddMongoDBClient"/>); then
    /// <see cref="StoreExtensions.AddNotificationStore"/> registers the store on MongoDB or SQLite.
    /// </summary>
    public static IHostApplicationBuilder AddNotifyStore(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (StoreExtensions.UsesMongo(builder))
        {
            builder.AddMongoDBClient(StoreExtensions.MongoConnectionName);
        }
        return builder.AddNotificationStore();
    }
}
