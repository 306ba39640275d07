using Notify.Tests.Infrastructure;

namespace Notify.Tests.Cluster;

/// <summary>A Redis Cluster that does not serve every slot is a bad <c>ConnectionStrings:redis</c>: every service refuses to start, naming it.</summary>
public sealed class ClusterStartupTests(RedisClusterWithMissingSlots cluster) : IClassFixture<RedisClusterWithMissingSlots>
{
    [Theory]
    [InlineData("Notify.Api")]
    [InlineData("Notify.Realtime")]
    [InlineData("Notify.Worker")]
    public async Task Start_ClusterWithMissingSlots_FailsWithOneLineNamingTheKey(string project)
    {
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            ServiceProcess.StartAsync(project, TestEnvironment.For(cluster), TimeSpan.FromSeconds(60)));

        var lines = failure.Message.Split('\n').Where(l => l.Contains("ConnectionStrings:redis", StringComparison.Ordinal)).ToList();
        Assert.True(lines.Count >= 1, failure.Message);
        Assert.Contains("cluster_state:fail", lines[0], StringComparison.Ordinal);
        Assert.Contains($"cluster_slots_assigned:{16384 - RedisClusterWithMissingSlots.MissingSlots} of 16384", lines[0], StringComparison.Ordinal);
    }
}
