namespace Aspire.MongoDB.Driver;

/// <summary>Settings of the MongoDB client integration, bound from <c>Aspire:MongoDB:Driver</c>.</summary>
public sealed class MongoDBSettings
{
    /// <summary>The MongoDB URL; taken from <c>ConnectionStrings:{name}</c> when set. Its path names the database.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>When true no <c>MongoDB.Driver</c> health check is registered. Default false.</summary>
    public bool DisableHealthChecks { get; set; }

    /// <summary>Timeout of the health check's <c>{ping:1}</c> in milliseconds. Default: the driver's server selection timeout.</summary>
    public int? HealthCheckTimeout { get; set; }

    /// <summary>When true no OpenTelemetry tracing of MongoDB commands is registered. Default false.</summary>
    public bool DisableTracing { get; set; }
}
