using Notify.Core.Json;
using Notify.Core.Messaging;
using Notify.Core.Tasks;
using Notify.Realtime.Connections;

namespace Notify.Realtime.Streams;

/// <summary>
/// Task and batch progress streams: who may watch one (its owner or an admin), the opening snapshot,
/// and the re-read of that snapshot when the stream falls silent (pub/sub is at-most-once).
/// </summary>
internal sealed class ProgressStreams(ConnectionRegistry registry, ITaskQueue queue, IProgressStore progress, TimeProvider time)
{
    /// <summary>
    /// Whether the user may watch the task or batch of a <paramref name="kind"/> stream: false when it is
    /// unknown or someone else's (the two are indistinguishable to the client).
    /// </summary>
    public async Task<bool> MayWatchAsync(StreamKind kind, string id, string userId, bool isAdmin, CancellationToken cancellationToken)
    {
        var owner = kind == StreamKind.Task
            ? (await queue.GetAsync(id, cancellationToken))?.UserId
            : (await queue.GetBatchAsync(id, cancellationToken))?.UserId;
        return owner is not null && (isAdmin || owner == userId);
    }

    /// <summary>
    /// Registers a task or batch stream: its topic, <c>connected</c>, the current snapshot as <c>progress</c>
    /// (and the terminal frame when it has already ended), then the live updates.
    /// </summary>
    public async Task OpenAsync(ClientConnection connection, string id, CancellationToken cancellationToken)
    {
        connection.BeginGate(null);
        var isTask = connection.Kind == StreamKind.Task;
        await registry.SubscribeAsync(connection, TopicOf(connection, id), cancellationToken);
        await connection.EnqueueReplayAsync(Frames.Serialize("connected", new Dictionary<string, object?>
        {
            [isTask ? "task_id" : "batch_id"] = id,
            ["connection_id"] = connection.Id,
            ["server_time"] = time.GetUtcNow(),
        }), cancellationToken);

        var snapshot = await SnapshotAsync(connection, id, cancellationToken);
        for (var i = 0; i < snapshot.Count; i++)
        {
            // The second frame of a snapshot is the terminal one: the stream ends once it is written.
            await connection.EnqueueReplayAsync(snapshot[i], cancellationToken, endsStream: i == 1);
        }
        connection.ReleaseGate(null);
    }

    /// <summary>
    /// Pub/sub is at-most-once, so a progress stream silent for <paramref name="poll"/> re-reads the
    /// snapshot: a task or batch that ended while its terminal frame was missed still ends the stream.
    /// Returns when the connection closes.
    /// </summary>
    public async Task WatchAsync(ClientConnection connection, string id, TimeSpan poll)
    {
        var topic = TopicOf(connection, id);
        while (!connection.Closing.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(poll, time, connection.Closing);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            if (time.GetUtcNow() - connection.LastActivity < poll)
            {
                continue;
            }
            var frames = await SnapshotAsync(connection, id, connection.Closing);
            if (frames.Count == 2)
            {
                connection.Deliver(topic, new SharedFrame(frames[1]), time.GetUtcNow());
                return;
            }
        }
    }

    private static BusTopic TopicOf(ClientConnection connection, string id) =>
        connection.Kind == StreamKind.Task ? BusTopic.Task(id) : BusTopic.Batch(id);

    private Task<List<byte[]>> SnapshotAsync(ClientConnection connection, string id, CancellationToken cancellationToken) =>
        connection.Kind == StreamKind.Task ? TaskSnapshotAsync(id, cancellationToken) : BatchSnapshotAsync(id, cancellationToken);

    /// <summary>The task's current <c>progress</c>, followed by its terminal frame when it has ended.</summary>
    public async Task<List<byte[]>> TaskSnapshotAsync(string taskId, CancellationToken cancellationToken)
    {
        var frames = new List<byte[]>(2);
        var task = await queue.GetAsync(taskId, cancellationToken);
        var snapshot = await progress.GetTaskAsync(taskId, cancellationToken);
        if (task is null && snapshot is null)
        {
            return frames;
        }
        var now = time.GetUtcNow();
        var state = task?.Status ?? snapshot!.Status;
        snapshot ??= new TaskProgress { TaskId = taskId, Status = state, Timestamp = now };
        frames.Add(Frames.Serialize(TaskFrames.Progress, snapshot));
        var elapsed = task is { StartedAt: { } started } ? ((task.FinishedAt ?? now) - started).TotalSeconds : snapshot.ElapsedS;
        if (state == TaskState.Completed)
        {
            frames.Add(Frames.Serialize(TaskFrames.Completed, new TaskCompletedEvent
            {
                TaskId = taskId, Result = task?.Result, Attempts = task?.Attempts ?? 0, ElapsedS = elapsed, Timestamp = task?.FinishedAt ?? now,
            }));
        }
        else if (state is TaskState.Failed or TaskState.Cancelled)
        {
            frames.Add(Frames.Serialize(TaskFrames.Error, new TaskErrorEvent
            {
                TaskId = taskId, Status = state, Error = task?.Error ?? (state == TaskState.Cancelled ? "cancelled" : "failed"),
                Attempts = task?.Attempts ?? 0, ElapsedS = elapsed, Timestamp = task?.FinishedAt ?? now,
            }));
        }
        return frames;
    }

    /// <summary>The batch's current <c>progress</c>, followed by <c>finished</c> when every task has ended.</summary>
    public async Task<List<byte[]>> BatchSnapshotAsync(string batchId, CancellationToken cancellationToken)
    {
        var frames = new List<byte[]>(2);
        var snapshot = await progress.GetBatchAsync(batchId, cancellationToken);
        if (snapshot is null)
        {
            return frames;
        }
        frames.Add(Frames.Serialize(TaskFrames.Progress, snapshot));
        if (snapshot.Queued == 0 && snapshot.Running == 0)
        {
            frames.Add(Frames.Serialize(TaskFrames.Finished, snapshot));
        }
        return frames;
    }
}
