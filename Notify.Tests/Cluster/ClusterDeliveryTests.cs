using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Notify.Core.Tasks;
using Notify.Tests.Realtime;
using Notify.Tests.Worker;

namespace Notify.Tests.Cluster;

/// <summary>
/// End to end on a Redis Cluster: a personal notification and a channel message created through the Api reach
/// WebSocket clients on both Realtime instances (sharded pub/sub), and the Worker runs a task with Hangfire on the cluster.
/// </summary>
public sealed class ClusterDeliveryTests(ClusterDeployment deployment) : IClassFixture<ClusterDeployment>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string NewId(string name) => $"{name}-{Guid.NewGuid():N}"[..20];

    [Fact]
    public async Task PersonalNotification_CreatedThroughTheApi_ArrivesOnBothRealtimeInstances()
    {
        var user = NewId("cl-user");
        await using var onA = await WsClient.ConnectAsync(deployment.A, "/api/ws/notifications", TestTokens.For(user));
        await using var onB = await WsClient.ConnectAsync(deployment.B, "/api/ws/notifications", TestTokens.For(user));
        Assert.Equal("connected", (await onA.NextOfTypeAsync("connected", Patience)).Type);
        Assert.Equal("connected", (await onB.NextOfTypeAsync("connected", Patience)).Type);

        using var response = await deployment.Http.PostAsJsonAsync("/api/notifications", new { user_id = user, type = "cluster", title = "over the cluster" }, Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString();

        foreach (var client in new[] { onA, onB })
        {
            var frame = await client.NextOfTypeAsync("notification", Patience);
            Assert.Equal(id, frame.Data.GetProperty("id").GetString());
            Assert.Equal("over the cluster", frame.Data.GetProperty("title").GetString());
        }
    }

    [Fact]
    public async Task ChannelMessage_BroadcastThroughTheApi_ArrivesOnSubscribersOfBothInstancesAndReplaysFromHistory()
    {
        var user = NewId("cl-chan");
        var channel = "public:" + NewId("room");
        await using var onA = await SubscribedAsync(deployment.A, user, channel);
        await using var onB = await SubscribedAsync(deployment.B, user, channel);

        using var response = await deployment.Http.PostAsJsonAsync("/api/notifications/broadcast", new { type = "cluster", content = "hello shards", channel }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var offset = (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString();

        foreach (var client in new[] { onA, onB })
        {
            var frame = await client.NextOfTypeAsync("message", Patience);
            Assert.Equal(channel, frame.Data.GetProperty("channel").GetString());
            Assert.Equal(offset, frame.Data.GetProperty("id").GetString());
        }

        // The history lives in the channel's slot: a late subscriber replays the message from the start.
        await using var late = await WsClient.ConnectAsync(deployment.B, "/api/ws/notifications", TestTokens.For(user));
        await late.NextOfTypeAsync("connected", Patience);
        await late.SendAsync(new { type = "subscribe", channel, since = "0" });
        var replayed = await late.NextOfTypeAsync("message", Patience);
        Assert.Equal(offset, replayed.Data.GetProperty("id").GetString());
    }

    [Fact]
    public async Task Task_EnqueuedOnTheCluster_IsRunByTheWorkerWithHangfireRunning()
    {
        await using var workers = await WorkerCluster.CreateAsync(deployment.Redis);
        await workers.StartWorkerAsync();
        var task = await workers.Queue.EnqueueAsync(NewId("cl-task"), "demo", JsonSerializer.SerializeToElement(new { steps = 3, step_ms = 50 }), Ct);

        await WorkerCluster.WaitUntilAsync(async () => (await workers.Queue.GetAsync(task.Id, Ct))?.Status == TaskState.Completed, Patience, "task completed");
        var progress = await workers.Progress.GetTaskAsync(task.Id, Ct);
        Assert.NotNull(progress);

        // Hangfire's storage works on the cluster: the Worker registered its recurring jobs under the hash-tagged prefix.
        var db = workers.Redis.GetDatabase();
        await WorkerCluster.WaitUntilAsync(async () => await db.SortedSetLengthAsync(workers.HangfirePrefix + "recurring-jobs") >= 2, Patience, "recurring jobs registered");
    }

    private static async Task<WsClient> SubscribedAsync(Notify.Tests.Infrastructure.ServiceProcess instance, string user, string channel)
    {
        var client = await WsClient.ConnectAsync(instance, "/api/ws/notifications", TestTokens.For(user));
        await client.NextOfTypeAsync("connected", Patience);
        await client.SendAsync(new { type = "subscribe", channel });
        Assert.Equal("subscribed", (await client.NextOfTypeAsync("subscribed", Patience)).Type);
        return client;
    }
}
