using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Notify.Core.Messaging;
using Notify.Tests.Infrastructure;
using Notify.Tests.Realtime;

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
        var name = new RedisChannels().For(BusTopic.User(user));
        var owner = (IPEndPoint)redis.GetServer(redis.GetEndPoints()[0]).ClusterConfiguration!.GetBySlot(redis.HashSlot(name))!.EndPoint!;
        await deployment.Redis.KillNodeAsync(owner.Port);

        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await deployment.Http.PostAsJsonAsync("/api/notifications", new { user_id = user, type = "failover", title = "n" + i }, Ct);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            ids.Add((await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString()!);
        }

        var received = new List<string>();
        while (received.Count < ids.Count)
        {
            Received frame;
            try
            {
                frame = await client.NextOfTypeAsync("notification", Patience);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"{received.Count} of {ids.Count} notifications arrived.\nRealtime A:\n{deployment.A.RecentLog}\nApi:\n{deployment.Api.RecentLog}");
                throw;
            }
            Assert.False(frame.IsClose, "the stream was closed");
            received.Add(frame.Data.GetProperty("id").GetString()!);
        }
        Assert.Equal(ids, received);

        // After the failover a new notification goes out live.
        using (var after = await deployment.Http.PostAsJsonAsync("/api/notifications", new { user_id = user, type = "failover", title = "after" }, Ct))
        {
            Assert.Equal(HttpStatusCode.Created, after.StatusCode);
            var id = (await after.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString();
            Assert.Equal(id, (await client.NextOfTypeAsync("notification", Patience)).Data.GetProperty("id").GetString());
        }
    }
}
