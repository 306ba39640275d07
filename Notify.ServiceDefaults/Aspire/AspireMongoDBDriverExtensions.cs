using Aspire.MongoDB.Driver;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Microsoft.Extensions.Hosting;

/// <summary>Registers <see cref="IMongoClient"/> and <see cref="IMongoDatabase"/> the way <c>Aspire.MongoDB.Driver</c> does.</summary>
public static class AspireMongoDBDriverExtensions
{
    private const string DefaultConfigSectionName = "Aspire:MongoDB:Driver";

    /// <summary>
    /// Registers a singleton <see cref="IMongoClient"/> from <c>ConnectionStrings:{connectionName}</c>, the
    /// <see cref="IMongoDatabase"/> that the URL's path names (when it names one), and the
    /// <c>MongoDB.Driver</c> health check, which runs <c>{ping:1}</c>.
    /// </summary>
    public static void AddMongoDBClient(
        this IHostApplicationBuilder builder,
        string connectionName,
        Action<MongoDBSettings>? configureSettings = null,
        Action<MongoClientSettings>? configureClientSettings = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(connectionName);

        var settings = new MongoDBSettings();
        builder.Configuration.GetSection(DefaultConfigSectionName).Bind(settings);
        if (builder.Configuration.GetConnectionString(connectionName) is { Length: > 0 } connectionString)
        {
            settings.ConnectionString = connectionString;
        }
        configureSettings?.Invoke(settings);

        if (string.IsNullOrWhiteSpace(settings.ConnectionString))
        {
            throw new InvalidOperationException(
                $"MongoDB is not configured: set ConnectionStrings:{connectionName} (environment ConnectionStrings__{connectionName}) " +
                $"or {DefaultConfigSectionName}:ConnectionString.");
        }

        var url = MongoUrl.Create(settings.ConnectionString);
        builder.Services.AddSingleton<IMongoClient>(_ =>
        {
            var clientSettings = MongoClientSettings.FromUrl(url);
            configureClientSettings?.Invoke(clientSettings);
            return new MongoClient(clientSettings);
        });

        if (!string.IsNullOrEmpty(url.DatabaseName))
        {
            builder.Services.AddSingleton(sp => sp.GetRequiredService<IMongoClient>().GetDatabase(url.DatabaseName));
        }

        if (!settings.DisableHealthChecks)
        {
            var timeout = settings.HealthCheckTimeout is { } ms ? TimeSpan.FromMilliseconds(ms) : (TimeSpan?)null;
            builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
                "MongoDB.Driver",
                sp => new MongoPingHealthCheck(sp.GetRequiredService<IMongoClient>(), url.DatabaseName ?? "admin"),
                failureStatus: null,
                tags: null,
                timeout));
        }
    }

    private sealed class MongoPingHealthCheck(IMongoClient client, string databaseName) : IHealthCheck
    {
        private static readonly BsonDocument Ping = new("ping", 1);

        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await client.GetDatabase(databaseName).RunCommandAsync<BsonDocument>(Ping, cancellationToken: cancellationToken);
                return HealthCheckResult.Healthy();
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return new HealthCheckResult(context.Registration.FailureStatus, exception: ex);
            }
        }
    }
}
