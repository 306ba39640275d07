using System.Net;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Notify.Core.Json;
using Notify.Core.Messaging;
using StackExchange.Redis;

namespace Notify.Core.Tasks;

/// <summary>
/// <see cref="ITaskQueue"/> on Redis: every state change is one Lua script (see
/// <see cref="RedisTaskQueueScripts"/>). Times come from <see cref="TimeProvider"/>; workers of one
/// deployment must share a clock to within a small fraction of the visibility timeout (NTP).
/// </summary>
public sealed class RedisTaskQueue(
    IConnectionMultiplexer redis,
    RedisChannels channels,
    IOptionsMonitor<QueueOptions> options,
    TimeProvider time) : ITaskQueue
{
    private static readonly RedisValue Empty = "";

    /// <summary>Longest error reason kept with a task.</summary>
    private const int MaxErrorLength = 1_000;

    private string Prefix => options.CurrentValue.KeyPrefix;

    /// <summary>
    /// The key a script declares so a Redis Cluster runs it on the node that owns the queue's slot; the scripts
    /// build their other keys from the prefix, which carries the hash tag that keeps them all in that slot.
    /// </summary>
    private static RedisKey[] Route(string prefix) => [prefix + ":stats"];

    private IDatabase Db => redis.GetDatabase();

    private static TaskQueueUnavailableException Unavailable(Exception inner) => new("The task queue is unavailable: " + inner.Message, inner);

    public Task<TaskRecord> EnqueueAsync(string userId, string kind, JsonElement? parameters, CancellationToken cancellationToken) =>
        RedisFaults.Translate(EnqueueCoreAsync(userId, kind, parameters, cancellationToken), Unavailable);

    private async Task<TaskRecord> EnqueueCoreAsync(string userId, string kind, JsonElement? parameters, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var id = NewId(now);
        await AddTasksAsync(userId, kind, batchId: null, [(id, parameters)], now, cancellationToken);
        return new TaskRecord { Id = id, UserId = userId, Kind = kind, Params = parameters, Status = TaskState.Queued, CreatedAt = Truncate(now) };
    }

    public Task<BatchRecord> EnqueueBatchAsync(string userId, string kind, IReadOnlyList<JsonElement?> items, CancellationToken cancellationToken) =>
        RedisFaults.Translate(EnqueueBatchCoreAsync(userId, kind, items, cancellationToken), Unavailable);

    private async Task<BatchRecord> EnqueueBatchCoreAsync(string userId, string kind, IReadOnlyList<JsonElement?> items, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentOutOfRangeException.ThrowIfZero(items.Count);
        var now = time.GetUtcNow();
        var batchId = NewId(now);
        var tasks = items.Select(item => (NewId(now), item)).ToArray();
        await AddTasksAsync(userId, kind, batchId, tasks, now, cancellationToken);
        return new BatchRecord
        {
            Id = batchId,
            UserId = userId,
            Kind = kind,
            TaskIds = [.. tasks.Select(t => t.Item1)],
            Counts = new BatchCounts(tasks.Length, tasks.Length, 0, 0, 0, 0),
            CreatedAt = Truncate(now),
        };
    }

    private async Task AddTasksAsync(string userId, string kind, string? batchId, IReadOnlyList<(string Id, JsonElement? Params)> tasks, DateTimeOffset now, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var o = options.CurrentValue;
        var args = new List<RedisValue>(9 + tasks.Count * 3)
        {
            o.KeyPrefix, userId, kind, batchId ?? "", now.ToUnixTimeMilliseconds(), (long)o.SnapshotTtl.TotalMilliseconds,
            o.MaxQueuedPerUser, o.MaxQueuedTotal, tasks.Count,
        };
        foreach (var (id, parameters) in tasks)
        {
            args.Add(id);
            args.Add(parameters is { } p ? p.GetRawText() : "");
            args.Add(JsonSerializer.SerializeToUtf8Bytes(
                new TaskProgress { TaskId = id, Status = TaskState.Queued, Message = "queued", Timestamp = now }, NotifyJson.Options));
        }
        var result = (long)await Db.ScriptEvaluateAsync(RedisTaskQueueScripts.Enqueue, Route(o.KeyPrefix), values: [.. args]);
        if (result == -1)
        {
            throw new QueueFullException($"User {userId} already has {o.MaxQueuedPerUser} queued tasks (Queue:MaxQueuedPerUser).") { IsUserCap = true };
        }
        if (result == -2)
        {
            throw new QueueFullException($"The queue already holds {o.MaxQueuedTotal} tasks (Queue:MaxQueuedTotal).");
        }
        await ReplicatedAsync(Route(o.KeyPrefix)[0], "enqueue");
    }

    /// <summary>Longest a write waits for a replica to confirm it.</summary>
    private static readonly TimeSpan ReplicaWait = TimeSpan.FromSeconds(1);

    /// <summary>How long a primary's replica count is trusted before it is asked again.</summary>
    private static readonly TimeSpan ReplicaCountAge = TimeSpan.FromSeconds(1);

    private volatile ReplicaCount? _replicas;

    private sealed record ReplicaCount(EndPoint Primary, int Replicas, long At);

    /// <summary>
    /// A task lives only in Redis, and replication is asynchronous: what the primary accepted in its last moments
    /// is lost with it in a failover. So when the queue's primary has replicas, a write that must survive one is
    /// confirmed only once every replica the primary lists holds it (<c>WAIT</c>, on the connection that wrote
    /// it), and when one does not confirm within <see cref="ReplicaWait"/> the operation fails as if Redis were
    /// unreachable:
    /// <list type="bullet">
    /// <item>an enqueue is not acknowledged (the task may still run: not acknowledged, not lost);</item>
    /// <item>a dequeue's leases are not handed out, so no task a promoted replica still holds as queued is run
    /// here while another Worker takes it from there (the leases expire and are recovered);</item>
    /// <item>a renewal or progress report does not extend what the Worker takes as proven, so a run stops before a
    /// promoted replica's older expiry lets another Worker start the task.</item>
    /// </list>
    /// </summary>
    private async Task ReplicatedAsync(RedisKey route, string operation)
    {
        if (redis.PrimaryFor(route) is not { } primary || await ReplicaCountAsync(primary) is not (> 0 and var replicas))
        {
            return;
        }
        // Every replica, not one: Sentinel promotes the replica it last saw furthest ahead, from offsets up to a
        // second old, so a write only one of two replicas holds can be lost to the promotion of the other.
        var confirmed = (long)await primary.ExecuteAsync("WAIT", replicas, (long)ReplicaWait.TotalMilliseconds);
        if (confirmed < replicas)
        {
            throw new RedisTimeoutException($"{confirmed} of the {replicas} replicas of {primary.EndPoint} confirmed the {operation} within {ReplicaWait.TotalSeconds:F0} s.", CommandStatus.Sent);
        }
    }

    /// <summary>How many replicas <paramref name="primary"/> reports (<c>ROLE</c>), remembered for <see cref="ReplicaCountAge"/>.</summary>
    private async Task<int> ReplicaCountAsync(IServer primary)
    {
        var known = _replicas;
        var now = time.GetTimestamp();
        if (known is not null && known.Primary.Equals(primary.EndPoint) && time.GetElapsedTime(known.At, now) < ReplicaCountAge)
        {
            return known.Replicas;
        }
        var role = (RedisResult[]?)await primary.ExecuteAsync("ROLE");
        var replicas = role is { Length: >= 3 } && (string?)role[0] == "master" ? ((RedisResult[]?)role[2])?.Length ?? 0 : 0;
        _replicas = new ReplicaCount(primary.EndPoint, replicas, now);
        return replicas;
    }

    public Task<TaskRecord?> GetAsync(string taskId, CancellationToken cancellationToken) =>
        RedisFaults.Translate(GetCoreAsync(taskId, cancellationToken), Unavailable);

    private async Task<TaskRecord?> GetCoreAsync(string taskId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!TaskIds.IsWellFormed(taskId))
        {
            return null;
        }
        var entries = await Db.HashGetAllAsync($"{Prefix}:task:{taskId}");
        if (entries.Length == 0)
        {
            return null;
        }
        var h = entries.ToDictionary(e => (string)e.Name!, e => e.Value);
        return new TaskRecord
        {
            Id = taskId,
            UserId = Str(h, "user") ?? "",
            Kind = Str(h, "kind") ?? "",
            Params = Json(Str(h, "params")),
            Status = ParseState(Str(h, "status")),
            BatchId = Str(h, "batch"),
            Attempts = (int)Long(h, "attempts"),
            CreatedAt = Ms(Long(h, "created")),
            StartedAt = h.ContainsKey("started") ? Ms(Long(h, "started")) : null,
            FinishedAt = h.ContainsKey("finished") ? Ms(Long(h, "finished")) : null,
            Error = Str(h, "error"),
            Result = Json(Str(h, "result")),
            CancelRequested = Str(h, "cancel") == "1",
            WorkerId = Str(h, "worker"),
        };
    }

    public Task<BatchRecord?> GetBatchAsync(string batchId, CancellationToken cancellationToken) =>
        RedisFaults.Translate(GetBatchCoreAsync(batchId, cancellationToken), Unavailable);

    private async Task<BatchRecord?> GetBatchCoreAsync(string batchId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!TaskIds.IsWellFormed(batchId))
        {
            return null;
        }
        var key = $"{Prefix}:batch:{batchId}";
        var db = Db;
        var hashTask = db.HashGetAllAsync(key);
        var idsTask = db.ListRangeAsync(key + ":tasks");
        var entries = await hashTask;
        var ids = await idsTask;
        if (entries.Length == 0)
        {
            return null;
        }
        var h = entries.ToDictionary(e => (string)e.Name!, e => e.Value);
        return new BatchRecord
        {
            Id = batchId,
            UserId = Str(h, "user") ?? "",
            Kind = Str(h, "kind") ?? "",
            TaskIds = [.. ids.Select(v => (string)v!)],
            Counts = new BatchCounts((int)Long(h, "total"), (int)Long(h, "queued"), (int)Long(h, "running"),
                (int)Long(h, "completed"), (int)Long(h, "failed"), (int)Long(h, "cancelled")),
            CreatedAt = Ms(Long(h, "created")),
            FinishedAt = h.ContainsKey("finished") ? Ms(Long(h, "finished")) : null,
        };
    }

    public Task<IReadOnlyList<TaskLease>> DequeueAsync(string workerId, int max, QueueLimits limits, CancellationToken cancellationToken) =>
        RedisFaults.Translate(DequeueCoreAsync(workerId, max, limits, cancellationToken), Unavailable);

    private async Task<IReadOnlyList<TaskLease>> DequeueCoreAsync(string workerId, int max, QueueLimits limits, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        cancellationToken.ThrowIfCancellationRequested();
        var now = time.GetUtcNow();
        var tokenBase = workerId + ":" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var raw = (RedisResult[])(await Db.ScriptEvaluateAsync(RedisTaskQueueScripts.Dequeue, Route(Prefix), values:
        [
            Prefix, workerId, max, limits.PerUser, limits.Global, now.ToUnixTimeMilliseconds(),
            (long)limits.VisibilityTimeout.TotalMilliseconds, tokenBase, (long)options.CurrentValue.FinishedRetention.TotalMilliseconds,
        ]))!;
        var leases = new List<TaskLease>(raw.Length);
        foreach (var item in raw)
        {
            var f = (RedisResult[])item!;
            var batch = (string?)f[6];
            var record = new TaskRecord
            {
                Id = (string)f[0]!,
                UserId = (string)f[2]!,
                Attempts = (int)f[3],
                Kind = (string)f[4]!,
                Params = Json((string?)f[5]),
                BatchId = string.IsNullOrEmpty(batch) ? null : batch,
                CreatedAt = Ms((long)f[7]),
                StartedAt = Ms((long)f[8]),
                Status = TaskState.Running,
                WorkerId = workerId,
            };
            leases.Add(new TaskLease(record, (string)f[1]!, Ms((long)f[9]))
            {
                Batch = record.BatchId is null ? null : new BatchCounts((int)f[10], (int)f[11], (int)f[12], (int)f[13], (int)f[14], (int)f[15]),
            });
        }
        if (leases.Count > 0)
        {
            await ReplicatedAsync(Route(Prefix)[0], "dequeue");
        }
        return leases;
    }

    public Task<IReadOnlyList<LeaseStatus>> RenewAsync(IReadOnlyList<TaskLease> leases, TimeSpan visibilityTimeout, CancellationToken cancellationToken) =>
        RedisFaults.Translate(RenewCoreAsync(leases, visibilityTimeout, cancellationToken), Unavailable);

    private async Task<IReadOnlyList<LeaseStatus>> RenewCoreAsync(IReadOnlyList<TaskLease> leases, TimeSpan visibilityTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(leases);
        cancellationToken.ThrowIfCancellationRequested();
        if (leases.Count == 0)
        {
            return [];
        }
        var args = new List<RedisValue>(3 + leases.Count * 2) { Prefix, time.GetUtcNow().ToUnixTimeMilliseconds(), (long)visibilityTimeout.TotalMilliseconds };
        foreach (var lease in leases)
        {
            args.Add(lease.Task.Id);
            args.Add(lease.Token);
        }
        var raw = (RedisResult[])(await Db.ScriptEvaluateAsync(RedisTaskQueueScripts.Renew, Route(Prefix), values: [.. args]))!;
        await ReplicatedAsync(Route(Prefix)[0], "lease renewal");
        return [.. raw.Select(r => (LeaseStatus)(int)r)];
    }

    public Task<LeaseStatus> ReportProgressAsync(TaskLease lease, TaskProgress progress, TimeSpan visibilityTimeout, CancellationToken cancellationToken) =>
        RedisFaults.Translate(ReportProgressCoreAsync(lease, progress, visibilityTimeout, cancellationToken), Unavailable);

    private async Task<LeaseStatus> ReportProgressCoreAsync(TaskLease lease, TaskProgress progress, TimeSpan visibilityTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(progress);
        cancellationToken.ThrowIfCancellationRequested();
        var id = lease.Task.Id;
        var result = (int)await Db.ScriptEvaluateAsync(RedisTaskQueueScripts.Progress, Route(Prefix), values:
        [
            Prefix, id, lease.Token, progress.Progress.ToString("R", CultureInfo.InvariantCulture),
            JsonSerializer.SerializeToUtf8Bytes(progress, NotifyJson.Options), (long)options.CurrentValue.SnapshotTtl.TotalMilliseconds,
            Frames.Serialize(TaskFrames.Progress, progress), channels.For(BusTopic.Task(id)),
            time.GetUtcNow().ToUnixTimeMilliseconds(), (long)visibilityTimeout.TotalMilliseconds,
        ]);
        await ReplicatedAsync(Route(Prefix)[0], "progress report");
        if (result is 1 or 2)
        {
            lease.LastProgress = progress;
        }
        return result switch
        {
            0 => LeaseStatus.Lost,
            2 => LeaseStatus.CancelRequested,
            _ => LeaseStatus.Held,
        };
    }

    public Task<TaskTransition> AckAsync(TaskLease lease, TaskOutcome outcome, string? error, JsonElement? result, bool retryable, CancellationToken cancellationToken) =>
        RedisFaults.Translate(AckCoreAsync(lease, outcome, error, result, retryable, cancellationToken), Unavailable);

    private async Task<TaskTransition> AckCoreAsync(TaskLease lease, TaskOutcome outcome, string? error, JsonElement? result, bool retryable, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        cancellationToken.ThrowIfCancellationRequested();
        var o = options.CurrentValue;
        var now = time.GetUtcNow();
        var id = lease.Task.Id;
        var last = lease.LastProgress ?? new TaskProgress { TaskId = id, Timestamp = now };
        var elapsed = ElapsedS(lease.Task, now);
        var attempts = lease.Task.Attempts;
        // The reason is kept with the task and sent in frames: bounded, whatever a handler threw.
        var reason = error is null ? outcome.ToString().ToLowerInvariant() : error.Length <= MaxErrorLength ? error : error[..MaxErrorLength] + "…";

        (byte[] Snapshot, byte[] Frame) Final(TaskState state, string message)
        {
            var snapshot = last with
            {
                Status = state,
                Message = message,
                Progress = state == TaskState.Completed ? 100 : last.Progress,
                Step = state == TaskState.Completed ? last.TotalSteps : last.Step,
                ElapsedS = elapsed,
                EtaS = state == TaskState.Completed ? 0 : null,
                Timestamp = now,
            };
            var frame = state == TaskState.Completed
                ? Frames.Serialize(TaskFrames.Completed, new TaskCompletedEvent { TaskId = id, Result = result, Attempts = attempts, ElapsedS = elapsed, Timestamp = now })
                : Frames.Serialize(TaskFrames.Error, new TaskErrorEvent { TaskId = id, Status = state, Error = message, Attempts = attempts, ElapsedS = elapsed, Timestamp = now });
            return (JsonSerializer.SerializeToUtf8Bytes(snapshot, NotifyJson.Options), frame);
        }

        var main = outcome switch
        {
            TaskOutcome.Completed => Final(TaskState.Completed, "completed"),
            TaskOutcome.Cancelled => Final(TaskState.Cancelled, "cancelled"),
            _ => Final(TaskState.Failed, reason),
        };
        (byte[] Snapshot, byte[] Frame) cancelled = ([], []), retry = ([], []);
        if (outcome == TaskOutcome.Failed)
        {
            cancelled = Final(TaskState.Cancelled, "cancelled");
            var queued = last with
            {
                Status = TaskState.Queued,
                Message = $"attempt {attempts} failed: {reason}; queued for a retry",
                ElapsedS = elapsed,
                EtaS = null,
                Timestamp = now,
            };
            retry = (JsonSerializer.SerializeToUtf8Bytes(queued, NotifyJson.Options), Frames.Serialize(TaskFrames.Progress, queued));
        }

        var raw = await Db.ScriptEvaluateAsync(RedisTaskQueueScripts.Ack, Route(o.KeyPrefix), values:
        [
            o.KeyPrefix, id, lease.Token, outcome.ToString().ToLowerInvariant(), reason, result is { } r ? r.GetRawText() : "",
            now.ToUnixTimeMilliseconds(), o.MaxAttempts, retryable ? 1 : 0, (long)o.FinishedRetention.TotalMilliseconds,
            (long)o.SnapshotTtl.TotalMilliseconds, channels.For(BusTopic.Task(id)),
            main.Snapshot, main.Frame, cancelled.Snapshot, cancelled.Frame, retry.Snapshot, retry.Frame, o.MaxFinishedPerUser,
        ]);
        return ParseTransition(raw);
    }

    public Task<TaskTransition> ReleaseAsync(TaskLease lease, CancellationToken cancellationToken) =>
        RedisFaults.Translate(ReleaseCoreAsync(lease, cancellationToken), Unavailable);

    private async Task<TaskTransition> ReleaseCoreAsync(TaskLease lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        cancellationToken.ThrowIfCancellationRequested();
        var o = options.CurrentValue;
        var now = time.GetUtcNow();
        var id = lease.Task.Id;
        var queued = (lease.LastProgress ?? new TaskProgress { TaskId = id, Timestamp = now }) with
        {
            Status = TaskState.Queued,
            Message = "worker stopping; back in the queue",
            EtaS = null,
            Timestamp = now,
        };
        var raw = await Db.ScriptEvaluateAsync(RedisTaskQueueScripts.Release, Route(o.KeyPrefix), values:
        [
            o.KeyPrefix, id, lease.Token, (long)o.SnapshotTtl.TotalMilliseconds, channels.For(BusTopic.Task(id)),
            JsonSerializer.SerializeToUtf8Bytes(queued, NotifyJson.Options), Frames.Serialize(TaskFrames.Progress, queued),
            (long)o.FinishedRetention.TotalMilliseconds, now.ToUnixTimeMilliseconds(),
        ]);
        return ParseTransition(raw);
    }

    public Task<TaskTransition> CancelAsync(string taskId, CancellationToken cancellationToken) =>
        RedisFaults.Translate(CancelCoreAsync(taskId, cancellationToken), Unavailable);

    private async Task<TaskTransition> CancelCoreAsync(string taskId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!TaskIds.IsWellFormed(taskId))
        {
            return TaskTransition.Nothing(taskId);
        }
        var o = options.CurrentValue;
        var now = time.GetUtcNow();
        var previous = await GetTaskAsync(taskId, cancellationToken);
        var snapshot = (previous ?? new TaskProgress { TaskId = taskId, Timestamp = now }) with
        {
            Status = TaskState.Cancelled,
            Message = "cancelled",
            EtaS = null,
            Timestamp = now,
        };
        var frame = Frames.Serialize(TaskFrames.Error, new TaskErrorEvent { TaskId = taskId, Status = TaskState.Cancelled, Error = "cancelled", Timestamp = now });
        var raw = await Db.ScriptEvaluateAsync(RedisTaskQueueScripts.Cancel, Route(o.KeyPrefix), values:
        [
            o.KeyPrefix, taskId, now.ToUnixTimeMilliseconds(), (long)o.FinishedRetention.TotalMilliseconds,
            (long)o.SnapshotTtl.TotalMilliseconds, channels.For(BusTopic.Task(taskId)),
            JsonSerializer.SerializeToUtf8Bytes(snapshot, NotifyJson.Options), frame, o.MaxFinishedPerUser,
        ]);
        return ParseTransition(raw);
    }

    public Task<IReadOnlyList<TaskTransition>> RecoverExpiredAsync(QueueLimits limits, int limit, CancellationToken cancellationToken) =>
        RedisFaults.Translate(RecoverExpiredCoreAsync(limits, limit, cancellationToken), Unavailable);

    private async Task<IReadOnlyList<TaskTransition>> RecoverExpiredCoreAsync(QueueLimits limits, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        cancellationToken.ThrowIfCancellationRequested();
        var o = options.CurrentValue;
        var now = time.GetUtcNow();
        var expired = await Db.SortedSetRangeByScoreAsync($"{o.KeyPrefix}:running", double.NegativeInfinity, now.ToUnixTimeMilliseconds(), take: limit);
        var transitions = new List<TaskTransition>(expired.Length);
        foreach (var value in expired)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var id = (string)value!;
            var task = await GetAsync(id, cancellationToken);
            var last = await GetTaskAsync(id, cancellationToken) ?? new TaskProgress { TaskId = id, Timestamp = now };
            var attempts = task?.Attempts ?? 0;
            var elapsed = task is null ? 0 : ElapsedS(task, now);
            var requeueMessage = $"worker lost during attempt {attempts} of {limits.MaxAttempts}; back in the queue";
            var finalState = task?.CancelRequested == true ? TaskState.Cancelled : TaskState.Failed;
            var error = attempts >= limits.MaxAttempts || finalState == TaskState.Cancelled
                ? (finalState == TaskState.Cancelled ? "cancelled" : $"lease expired after {attempts} attempts (worker lost each time)")
                : "lease expired (worker lost)";
            var queued = last with { Status = TaskState.Queued, Message = requeueMessage, ElapsedS = elapsed, EtaS = null, Timestamp = now };
            var failed = last with { Status = finalState, Message = error, ElapsedS = elapsed, EtaS = null, Timestamp = now };
            var raw = await Db.ScriptEvaluateAsync(RedisTaskQueueScripts.RecoverOne, Route(o.KeyPrefix), values:
            [
                o.KeyPrefix, id, now.ToUnixTimeMilliseconds(), limits.MaxAttempts, (long)o.FinishedRetention.TotalMilliseconds,
                (long)o.SnapshotTtl.TotalMilliseconds, channels.For(BusTopic.Task(id)), error,
                JsonSerializer.SerializeToUtf8Bytes(queued, NotifyJson.Options), Frames.Serialize(TaskFrames.Progress, queued),
                JsonSerializer.SerializeToUtf8Bytes(failed, NotifyJson.Options),
                Frames.Serialize(TaskFrames.Error, new TaskErrorEvent { TaskId = id, Status = finalState, Error = error, Attempts = attempts, ElapsedS = elapsed, Timestamp = now }),
                o.MaxFinishedPerUser,
            ]);
            var transition = ParseTransition(raw);
            if (transition.Kind != TransitionKind.None)
            {
                transitions.Add(transition);
            }
        }
        return transitions;
    }

    public Task<QueueStats> GetStatsAsync(CancellationToken cancellationToken) =>
        RedisFaults.Translate(GetStatsCoreAsync(cancellationToken), Unavailable);

    private async Task<QueueStats> GetStatsCoreAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var db = Db;
        var statsTask = db.HashGetAllAsync($"{Prefix}:stats");
        var runningTask = db.SortedSetLengthAsync($"{Prefix}:running");
        var h = (await statsTask).ToDictionary(e => (string)e.Name!, e => e.Value);
        return new QueueStats(Math.Max(0, Long(h, "queued")), await runningTask, Long(h, "completed"), Long(h, "failed"), Long(h, "cancelled"));
    }

    public Task<IAsyncDisposable> SubscribeAsync(Action onWork, Action<string> onCancel, CancellationToken cancellationToken) =>
        RedisFaults.Translate(SubscribeCoreAsync(onWork, onCancel, cancellationToken), Unavailable);

    private async Task<IAsyncDisposable> SubscribeCoreAsync(Action onWork, Action<string> onCancel, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onWork);
        ArgumentNullException.ThrowIfNull(onCancel);
        cancellationToken.ThrowIfCancellationRequested();
        var subscriber = redis.GetSubscriber();
        var wake = RedisChannel.Literal($"{Prefix}:wake");
        var cancel = RedisChannel.Literal($"{Prefix}:cancel");
        Action<RedisChannel, RedisValue> wakeHandler = (_, _) => onWork();
        Action<RedisChannel, RedisValue> cancelHandler = (_, v) => onCancel((string)v!);
        // On the primary, where the scripts publish: a replica's subscriptions lag, and miss what a resync skips.
        await subscriber.SubscribeAsync(wake, wakeHandler, CommandFlags.DemandMaster);
        await subscriber.SubscribeAsync(cancel, cancelHandler, CommandFlags.DemandMaster);
        return new Subscription(subscriber, [(wake, wakeHandler), (cancel, cancelHandler)]);
    }

    private async Task<TaskProgress?> GetTaskAsync(string taskId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var value = await Db.StringGetAsync(RedisProgressStore.SnapshotKey(Prefix, taskId));
        return value.IsNullOrEmpty ? null : JsonSerializer.Deserialize<TaskProgress>((byte[])value!, NotifyJson.Options);
    }

    private static TaskTransition ParseTransition(RedisResult raw)
    {
        var f = (RedisResult[])raw!;
        var code = (int)f[0];
        var batch = (string?)f[7];
        var user = (string?)f[2];
        var kind = (string?)f[3];
        var error = (string?)f[6];
        return new TaskTransition
        {
            Kind = code switch
            {
                1 => TransitionKind.Requeued,
                2 => TransitionKind.Finished,
                3 => TransitionKind.CancelRequested,
                _ => TransitionKind.None,
            },
            TaskId = (string)f[1]!,
            UserId = string.IsNullOrEmpty(user) ? null : user,
            TaskKind = string.IsNullOrEmpty(kind) ? null : kind,
            Status = ParseState((string?)f[4]),
            Attempts = (int)f[5],
            Error = string.IsNullOrEmpty(error) ? null : error,
            BatchId = string.IsNullOrEmpty(batch) ? null : batch,
            Batch = string.IsNullOrEmpty(batch) || code == 0 || code == 3 ? null
                : new BatchCounts((int)f[8], (int)f[9], (int)f[10], (int)f[11], (int)f[12], (int)f[13]),
            BatchFinished = (int)f[14] == 1,
        };
    }

    private string NewId(DateTimeOffset now) => Ulid.NewUlid(now).ToString().ToLowerInvariant();

    private static double ElapsedS(TaskRecord task, DateTimeOffset now) =>
        task.StartedAt is { } started ? Math.Round(Math.Max(0, (now - started).TotalSeconds), 3) : 0;

    private static DateTimeOffset Truncate(DateTimeOffset t) => Ms(t.ToUnixTimeMilliseconds());

    private static DateTimeOffset Ms(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    private static string? Str(Dictionary<string, RedisValue> h, string field) =>
        h.TryGetValue(field, out var v) && !v.IsNullOrEmpty ? (string?)v : null;

    private static long Long(Dictionary<string, RedisValue> h, string field) =>
        h.TryGetValue(field, out var v) && v.TryParse(out long l) ? l : 0;

    private static JsonElement? Json(string? raw) =>
        string.IsNullOrEmpty(raw) ? null : JsonDocument.Parse(raw).RootElement.Clone();

    private static TaskState ParseState(string? s) => s switch
    {
        "running" => TaskState.Running,
        "completed" => TaskState.Completed,
        "failed" => TaskState.Failed,
        "cancelled" => TaskState.Cancelled,
        _ => TaskState.Queued,
    };

    private sealed class Subscription(ISubscriber subscriber, (RedisChannel Channel, Action<RedisChannel, RedisValue> Handler)[] subscriptions) : IAsyncDisposable
    {
        private int _disposed;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                foreach (var (channel, handler) in subscriptions)
                {
                    await subscriber.UnsubscribeAsync(channel, handler);
                }
            }
        }
    }
}
