using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Notify.Tests.Infrastructure;

namespace Notify.Tests;

/// <summary>The pinned StackExchange.Redis works at run time with what was built against its 2.x line.</summary>
public sealed class RedisCompatibilityTests(RedisServer redis) : IClassFixture<RedisServer>
{
    [Fact]
    public async Task RedisHealthCheck_AgainstRealServer_IsHealthy()
    {
        await using var mux = await redis.ConnectAsync();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<StackExchange.Redis.IConnectionMultiplexer>(mux);
        services.AddHealthChecks().AddRedis(sp => sp.GetRequiredService<StackExchange.Redis.IConnectionMultiplexer>(), name: "StackExchange.Redis");
        await using var provider = services.BuildServiceProvider();

        var report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HealthStatus.Healthy, report.Status);
    }
}
