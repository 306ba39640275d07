using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Notify.Core.Tasks;

namespace Notify.Tests.Realtime;

/// <summary>Task and batch streams (WebSocket and SSE) and the SSE notification stream, fed by the real Redis task queue.</summary>
public sealed class ProgressAndSseTests(RealtimeClusterFixture cluster) : IClassFixture<RealtimeClusterFixture>
{
    private static string NewUser(string name) => RealtimeClusterFixture.NewUser(name);

    private RedisTaskQueue Queue => cluster.Backplane.Queue;

    [Fact]
    public async Task TaskSocket_Owner_SnapshotUpdatesCompletedThenClose1000()
    {
        var user = NewUser("tws");
        var task = await Queue.EnqueueAsync(user, "demo", null, TestContext.Current.CancellationToken);
        await using var client = await WsClient.ConnectAsync(cluster.B, $"/api/ws/tasks/{task.Id}", TestTokens.For(user));

        var connected = await client.NextAsync();
        Assert.Equal("connected", connected.Type);
        Assert.Equal(task.Id, connected.Data.GetProperty("task_id").GetString());
        var snapshot = await client.NextAsync();
        Assert.Equal("progress", snapshot.Type);
        Assert.Equal("queued", snapshot.Data.GetProperty("status").GetString());

        var lease = await LeaseAsync(task.Id);
        await Queue.ReportProgressAsync(lease, new TaskProgress { TaskId = task.Id, Status = TaskState.Running, Step = 1, TotalSteps = 2, Progress = 50, Message = "half", Timestamp = DateTimeOffset.UtcNow }, TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        await Queue.AckAsync(lease, TaskOutcome.Completed, null, null, false, TestContext.Current.CancellationToken);

        var frames = new List<Received>();
        while (true)
        {
            var frame = await client.NextAsync();
            if (frame.IsClose)
            {
                Assert.Equal(1000, frame.CloseCode);
                break;
            }
            frames.Add(frame);
        }
        var half = frames.Single(f => f.Type == "progress" && f.Data.GetProperty("progress").GetDouble() == 50);
        foreach (var field in new[] { "task_id", "status", "message", "step", "total_steps", "progress", "elapsed_s", "eta_s", "timestamp" })
        {
            Assert.True(half.Data.TryGetProperty(field, out _), field);
        }
        Assert.Equal("completed", frames[^1].Type);
    }

    [Fact]
    public async Task TaskSocket_ClientFrameRejected_ErrorAnswerDoesNotEndTheStream()
    {
        var user = NewUser("terr");
        var task = await Queue.EnqueueAsync(user, "demo", null, TestContext.Current.CancellationToken);
        await using var client = await WsClient.ConnectAsync(cluster.A, $"/api/ws/tasks/{task.Id}", TestTokens.For(user));
        Assert.Equal("connected", (await client.NextAsync()).Type);
        Assert.Equal("progress", (await client.NextAsync()).Type);

        await client.SendAsync("{oops");
        var answer = await client.NextAsync();
        Assert.Equal("error", answer.Type);
        Assert.Equal("bad_request", answer.Data.GetProperty("code").GetString());

        // Still open: the error was the server's answer to the client, not the task's end.
        await client.SendAsync(new { type = "ping" });
        Assert.Equal("pong", (await client.NextOfTypeAsync("pong")).Type);
        var lease = await LeaseAsync(task.Id);
        await Queue.AckAsync(lease, TaskOutcome.Completed, null, null, false, TestContext.Current.CancellationToken);
        Assert.Equal("completed", (await client.NextOfTypeAsync("completed")).Type);
        Assert.Equal(1000, await client.ClosedAsync());
    }

    [Fact]
    public async Task TaskSocket_OtherUsersTask_ClosesWith4003()
    {
        var task = await Queue.EnqueueAsync(NewUser("towner"), "demo", null, TestContext.Current.CancellationToken);
        try
        {
            await using var client = await WsClient.ConnectAsync(cluster.A, $"/api/ws/tasks/{task.Id}", TestTokens.For(NewUser("tother")));
            Assert.Equal(4003, await client.ClosedAsync());
        }
        finally
        {
            await Queue.CancelAsync(task.Id, CancellationToken.None);
        }
    }

    [Fact]
    public async Task TaskSocket_AdminOnOthersTask_IsAllowed()
    {
        var task = await Queue.EnqueueAsync(NewUser("towner"), "demo", null, TestContext.Current.CancellationToken);
        try
        {
            await using var client = await WsClient.ConnectAsync(cluster.A, $"/api/ws/tasks/{task.Id}", TestTokens.For(NewUser("tadmin"), admin: true));
            Assert.Equal("connected", (await client.NextAsync()).Type);
            Assert.Equal("progress", (await client.NextAsync()).Type);
        }
        finally
        {
            await Queue.CancelAsync(task.Id, CancellationToken.None);
        }
    }

    [Fact]
    public async Task TaskSocket_AlreadyCancelled_SnapshotErrorThenClose1000()
    {
        var user = NewUser("tdone");
        var task = await Queue.EnqueueAsync(user, "demo", null, TestContext.Current.CancellationToken);
        await Queue.CancelAsync(task.Id, TestContext.Current.CancellationToken);

        await using var client = await WsClient.ConnectAsync(cluster.A, $"/api/ws/tasks/{task.Id}", TestTokens.For(user));

        Assert.Equal("connected", (await client.NextAsync()).Type);
        Assert.Equal("progress", (await client.NextAsync()).Type);
        var error = await client.NextAsync();
        Assert.Equal("error", error.Type);
        Assert.Equal("cancelled", error.Data.GetProperty("status").GetString());
        Assert.Equal(1000, await client.ClosedAsync());
    }

    [Fact]
    public async Task SseTask_ProgressThenCompleted_StreamEnds()
    {
        var user = NewUser("sset");
        var task = await Queue.EnqueueAsync(user, "demo", null, TestContext.Current.CancellationToken);
        await using var sse = await SseClient.ConnectAsync(cluster.A, $"/api/sse/tasks/{task.Id}", TestTokens.For(user));
        Assert.Equal("text/event-stream", sse.Response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("connected", (await sse.NextAsync())?.Event);
        Assert.Equal("3000", sse.Retry);
        Assert.Equal("progress", (await sse.NextAsync())?.Event);

        var lease = await LeaseAsync(task.Id);
        await Queue.AckAsync(lease, TaskOutcome.Failed, "boom", null, false, TestContext.Current.CancellationToken);

        var events = new List<SseEvent>();
        while (await sse.NextAsync() is { } next)
        {
            events.Add(next);
        }
        Assert.Equal("error", events[^1].Event);
        Assert.Equal("boom", events[^1].Json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task SseTask_NoUpdates_EndsAfterIdleLimit()
    {
        var user = NewUser("sseidle");
        var task = await Queue.EnqueueAsync(user, "demo", null, TestContext.Current.CancellationToken);
        try
        {
            await using var sse = await SseClient.ConnectAsync(cluster.B, $"/api/sse/tasks/{task.Id}", TestTokens.For(user), tokenInHeader: true);
            Assert.Equal("connected", (await sse.NextAsync())?.Event);
            Assert.Equal("progress", (await sse.NextAsync())?.Event);
            var watch = Stopwatch.StartNew();

            Assert.Null(await sse.NextAsync(TimeSpan.FromSeconds(20)));
            Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(9), $"ended after {watch.Elapsed}");
        }
        finally
        {
            await Queue.CancelAsync(task.Id, CancellationToken.None);
        }
    }

    [Fact]
    public async Task SseTask_OtherUsersTask_Is404()
    {
        var task = await Queue.EnqueueAsync(NewUser("sowner"), "demo", null, TestContext.Current.CancellationToken);
        try
        {
            await using var sse = await SseClient.ConnectAsync(cluster.A, $"/api/sse/tasks/{task.Id}", TestTokens.For(NewUser("sother")));
            Assert.Equal(HttpStatusCode.NotFound, sse.Response.StatusCode);
        }
        finally
        {
            await Queue.CancelAsync(task.Id, CancellationToken.None);
        }
    }

    [Fact]
    public async Task SseBatch_EveryTaskEnds_ProgressThenFinishedAndStreamEnds()
    {
        var user = NewUser("batch");
        var batch = await Queue.EnqueueBatchAsync(user, "noop", [null, null], TestContext.Current.CancellationToken);
        await using var sse = await SseClient.ConnectAsync(cluster.B, $"/api/sse/batches/{batch.Id}", TestTokens.For(user));
        Assert.Equal("connected", (await sse.NextAsync())?.Event);
        var first = await sse.NextAsync();
        Assert.Equal("progress", first?.Event);
        foreach (var field in new[] { "total", "completed", "failed", "running", "queued", "progress" })
        {
            Assert.True(first!.Json.TryGetProperty(field, out _), field);
        }

        var events = new TaskEvents(cluster.Backplane.Bus, TimeProvider.System);
        foreach (var id in batch.TaskIds)
        {
            var lease = await LeaseAsync(id);
            await events.PublishAsync(lease, TestContext.Current.CancellationToken);
            await events.PublishAsync(await Queue.AckAsync(lease, TaskOutcome.Completed, null, null, false, TestContext.Current.CancellationToken), TestContext.Current.CancellationToken);
        }

        var received = new List<SseEvent>();
        while (await sse.NextAsync() is { } next)
        {
            received.Add(next);
        }
        Assert.Equal("finished", received[^1].Event);
        Assert.Equal(2, received[^1].Json.GetProperty("completed").GetInt32());
        Assert.Equal(100, received[^1].Json.GetProperty("progress").GetDouble());
    }

    [Fact]
    public async Task SseBatch_NoUpdates_EndsAfterIdleLimit()
    {
        var user = NewUser("bidle");
        var batch = await Queue.EnqueueBatchAsync(user, "noop", [null], TestContext.Current.CancellationToken);
        try
        {
            await using var sse = await SseClient.ConnectAsync(cluster.A, $"/api/sse/batches/{batch.Id}", TestTokens.For(user));
            Assert.Equal("connected", (await sse.NextAsync())?.Event);

            var ended = false;
            for (var i = 0; i < 5 && !ended; i++)
            {
                ended = await sse.NextAsync(TimeSpan.FromSeconds(20)) is null;
            }
            Assert.True(ended);
        }
        finally
        {
            foreach (var id in batch.TaskIds)
            {
                await Queue.CancelAsync(id, CancellationToken.None);
            }
        }
    }

    [Fact]
    public async Task SseNotifications_LastEventId_ResumesWithoutGapOrDuplicate()
    {
        var user = NewUser("sse");
        var ids = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            ids.Add((await cluster.Backplane.NotifyAsync(user, $"n{i}")).Id);
        }

        await using var sse = await SseClient.ConnectAsync(cluster.A, "/api/sse/notifications", TestTokens.For(user), lastEventId: ids[1]);
        var connected = await sse.NextAsync();
        Assert.Equal("connected", connected?.Event);
        Assert.Equal(user, connected!.Json.GetProperty("user_id").GetString());
        var live = await cluster.Backplane.NotifyAsync(user, "live");

        var received = new List<SseEvent>();
        for (var i = 0; i < 3; i++)
        {
            received.Add((await sse.NextAsync())!);
        }
        Assert.All(received, e => Assert.Equal("notification", e.Event));
        Assert.Equal([ids[2], ids[3], live.Id], received.Select(e => e.Id));
        Assert.Equal(received.Select(e => e.Id), received.Select(e => e.Json.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task SseNotifications_StreamAlias_DeliversNotificationsAndHeartbeats()
    {
        var user = NewUser("alias");
        await using var sse = await SseClient.ConnectAsync(cluster.B, "/api/notifications/stream", TestTokens.For(user), tokenInHeader: true);
        Assert.Equal("connected", (await sse.NextAsync())?.Event);

        var sent = await cluster.Backplane.NotifyAsync(user, "via alias");
        var notification = await sse.NextAsync();
        Assert.Equal(sent.Id, notification?.Id);

        SseEvent? heartbeat;
        do
        {
            heartbeat = await sse.ReceiveAsync(TimeSpan.FromSeconds(6));
        }
        while (heartbeat is { Event: not "heartbeat" });
        Assert.True(heartbeat!.Json.TryGetProperty("timestamp", out _));
    }

    [Fact]
    public async Task SseNotifications_BadToken_Is401Problem()
    {
        await using var sse = await SseClient.ConnectAsync(cluster.A, "/api/sse/notifications", TestTokens.AlgNone(NewUser("none")));

        Assert.Equal(HttpStatusCode.Unauthorized, sse.Response.StatusCode);
        Assert.Equal("application/problem+json", sse.Response.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>Leases <paramref name="taskId"/> as a worker would, giving back any other task it got.</summary>
    private async Task<TaskLease> LeaseAsync(string taskId)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < RealtimeHost.Wait)
        {
            var leases = await Queue.DequeueAsync("test-worker", 50, new QueueOptions().Limits, TestContext.Current.CancellationToken);
            TaskLease? mine = null;
            foreach (var lease in leases)
            {
                if (lease.Task.Id == taskId)
                {
                    mine = lease;
                }
                else
                {
                    await Queue.ReleaseAsync(lease, TestContext.Current.CancellationToken);
                }
            }
            if (mine is not null)
            {
                return mine;
            }
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
        throw new TimeoutException($"task {taskId} never dequeued");
    }
}
