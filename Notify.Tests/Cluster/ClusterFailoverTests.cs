using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Notify.Core.Messaging;
using Notify.Tests.Infrastructure;
using Notify.Tests.Realtime;
using StackExchange.Redis;

namespace Notify.Tests.Cluster;

/// <summary>
/// A shard's primary killed under a connected user: its replica takes over, and notifications created meanwhile and
/// after reach the user's open stream (the lost sharded subscription is caught up like any lost subscription).
/// Its own deployment: the fault changes the cluster.
/// </summary>
public sealed class ClusterFailoverTests(ClusterDeployment deployment) : IClassFixture<ClusterDeployment>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PrimaryOfTheUsersShardKilled_NotificationsCreatedDuringAndAfterTheFailoverArrive()
    {
        var user = $"cl-fo-{Guid.NewGuid():N}"[..20];
        await using var client = await WsClient.ConnectAsync(deployment.A, "/api/ws/notifications", TestTokens.For(user));
        await client.NextOfTypeAsync("connected", Patience);

        await using var redis = await deployment.Redis.ConnectAsync();
        var slot = redis.HashSlot(new RedisChannels().For(BusTopic.User(user)));
        var slots = redis.GetServer(redis.GetEndPoints()[0]).ClusterConfiguration!;
        var owner = (IPEndPoint)slots.GetBySlot(slot)!.EndPoint!;
        // A user whose topic lives on another shard, connected to the same instance.
        string other;
        do
        {
            other = $"cl-fo-other-{Guid.NewGuid():N}"[..24];
        }
        while (((IPEndPoint)slots.GetBySlot(redis.HashSlot(new RedisChannels().For(BusTopic.User(other))))!.EndPoint!).Port == owner.Port);
        await using var otherClient = await WsClient.ConnectAsync(deployment.A, "/api/ws/notifications", TestTokens.For(other));
        await otherClient.NextOfTypeAsync("connected", Patience);
        var killedAt = Stopwatch.GetTimestamp();
        await deployment.Redis.KillNodeAsync(owner.Port);
        var promoted = WaitForNewOwnerAsync(slot, owner.Port);

        // Read while the creates run, so each arrival is timed when it comes.
        var arrivals = ReceiveNotificationsAsync(client, 3, killedAt);
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await deployment.Http.PostAsJsonAsync("/api/notifications", new { user_id = user, type = "failover", title = "n" + i }, Ct);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            ids.Add((await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString()!);
        }
        var acknowledgedAfter = Stopwatch.GetElapsedTime(killedAt);

        // The other shard's user is not held up by the failing shard: its notification, created after the three,
        // arrives before any of them (they wait for the failover, which takes seconds).
        using (var response = await deployment.Http.PostAsJsonAsync("/api/notifications", new { user_id = other, type = "failover", title = "elsewhere" }, Ct))
        {
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            var id = (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString();
            Assert.Equal(id, (await otherClient.NextOfTypeAsync("notification", Patience)).Data.GetProperty("id").GetString());
        }
        var otherArrivedAfter = Stopwatch.GetElapsedTime(killedAt);

        List<(string Id, TimeSpan After)> received;
        try
        {
            received = await arrivals;
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"not every notification arrived.\nRealtime A:\n{deployment.A.RecentLog}\nApi:\n{deployment.Api.RecentLog}");
            throw;
        }
        Assert.Equal(ids, received.Select(r => r.Id));
        var firstAfter = received[0].After;
        Assert.True(otherArrivedAfter < firstAfter,
            $"the other shard's notification arrived after {otherArrivedAfter.TotalMilliseconds:F0} ms, the failing shard's first after {firstAfter.TotalMilliseconds:F0} ms");
        var allAfter = received[^1].After;
        var promotedAfter = Stopwatch.GetElapsedTime(killedAt, await promoted);
        // Read by bench/cluster/failover.sh.
        TestContext.Current.TestOutputHelper?.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"failover: deliveries resumed {firstAfter.TotalMilliseconds:F0} ms after the primary was killed; its replica owned the slot after {promotedAfter.TotalMilliseconds:F0} ms; the three creates were acknowledged after {acknowledgedAfter.TotalMilliseconds:F0} ms and had all arrived after {allAfter.TotalMilliseconds:F0} ms"));

        // After the failover a new notification goes out live.
        using (var after = await deployment.Http.PostAsJsonAsync("/api/notifications", new { user_id = user, type = "failover", title = "after" }, Ct))
        {
            Assert.Equal(HttpStatusCode.Created, after.StatusCode);
            var id = (await after.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString();
            Assert.Equal(id, (await client.NextOfTypeAsync("notification", Patience)).Data.GetProperty("id").GetString());
        }
    }

    /// <summary>The ids of the next <paramref name="count"/> notification frames, each with its arrival after <paramref name="since"/>.</summary>
    private static async Task<List<(string Id, TimeSpan After)>> ReceiveNotificationsAsync(WsClient client, int count, long since)
    {
        var received = new List<(string, TimeSpan)>();
        while (received.Count < count)
        {
            var frame = await client.NextOfTypeAsync("notification", Patience);
            Assert.False(frame.IsClose, "the stream was closed");
            received.Add((frame.Data.GetProperty("id").GetString()!, Stopwatch.GetElapsedTime(since)));
        }
        return received;
    }

    /// <summary>When (a <see cref="Stopwatch"/> timestamp) a surviving node first names another owner of <paramref name="slot"/>.</summary>
    private async Task<long> WaitForNewOwnerAsync(int slot, int killedPort)
    {
        var survivor = deployment.Redis.Ports.First(p => p != killedPort);
        await using var node = await RedisCluster.ConnectNodeAsync(survivor);
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < Patience)
        {
            try
            {
                var nodes = await node.GetServer(node.GetEndPoints()[0]).ClusterNodesAsync();
                if (nodes?.GetBySlot(slot)?.EndPoint is IPEndPoint { } at && at.Port != killedPort)
                {
                    return Stopwatch.GetTimestamp();
                }
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
            }
            await Task.Delay(50, Ct);
        }
        throw new TimeoutException($"no node named a new owner of slot {slot} within {Patience}");
    }
}
