namespace Aspire.StackExchange.Redis;

/// <summary>Settings of the Redis client integration, bound from <c>Aspire:StackExchange:Redis</c>.</summary>
public sealed class StackExchangeRedisSettings
{
    /// <summary>The StackExchange.Redis configuration string; taken from <c>ConnectionStrings:{name}</c> when set.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>When true no <c>StackExchange.Redis</c> health check is registered. Default false.</summary>
    public bool DisableHealthChecks { get; set; }

    /// <summary>When true no OpenTelemetry tracing of Redis commands is registered. Default false.</summary>
    public bool DisableTracing { get; set; }
}
