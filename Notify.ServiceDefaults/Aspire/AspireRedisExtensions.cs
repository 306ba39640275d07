using Aspire.StackExchange.Redis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using StackExchange.Redis;

namespace Microsoft.Extensions.Hosting;

/// <summary>Registers a shared <see cref="IConnectionMultiplexer"/> the way <c>Aspire.StackExchange.Redis</c> does.</summary>
public static class AspireRedisExtensions
{
    private const string DefaultConfigSectionName = "Aspire:StackExchange:Redis";

    /// <summary>
    /// Registers one <see cref="IConnectionMultiplexer"/> per process, connected with
    /// <c>ConnectionStrings:{connectionName}</c>, plus the <c>StackExchange.Redis</c> health check and tracing.
    /// The multiplexer does not abort when Redis is down at start: it keeps reconnecting and the
    /// health check reports the outage.
    /// </summary>
    public static void AddRedisClient(
        this IHostApplicationBuilder builder,
        string connectionName,
        Action<StackExchangeRedisSettings>? configureSettings = null,
        Action<ConfigurationOptions>? configureOptions = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(connectionName);

        var settings = new StackExchangeRedisSettings();
        builder.Configuration.GetSection(DefaultConfigSectionName).Bind(settings);
        if (builder.Configuration.GetConnectionString(connectionName) is { Length: > 0 } connectionString)
        {
            settings.ConnectionString = connectionString;
        }
        configureSettings?.Invoke(settings);

        if (string.IsNullOrWhiteSpace(settings.ConnectionString))
        {
            throw new InvalidOperationException(
                $"Redis is not configured: set ConnectionStrings:{connectionName} (environment ConnectionStrings__{connectionName}) " +
                $"or {DefaultConfigSectionName}:ConnectionString.");
        }

        var options = ConfigurationOptions.Parse(settings.ConnectionString);
        options.AbortOnConnectFail = false;
        builder.Configuration.GetSection($"{DefaultConfigSectionName}:ConfigurationOptions").Bind(options);
        configureOptions?.Invoke(options);

        builder.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(options));

        if (!settings.DisableTracing)
        {
            builder.Services.AddOpenTelemetry().WithTracing(t => t.AddRedisInstrumentation());
        }

        if (!settings.DisableHealthChecks)
        {
            builder.Services.AddHealthChecks().AddRedis(
                sp => sp.GetRequiredService<IConnectionMultiplexer>(),
                name: "StackExchange.Redis",
                timeout: TimeSpan.FromSeconds(5));
        }
    }
}
