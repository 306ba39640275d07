using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Notify.Core.Json;
using Notify.Core.Messaging;
using Notify.Core.Notifications;
using Notify.Core.Tasks;

namespace Notify.Worker.Queue;

/// <summary>
/// Tells people about a task's end: the owner gets an inbox notification (stored first, then published
/// through the outbox, as the Api does) when it completes or fails, and a failure is also a
/// <c>system_message</c> on the <c>admin</c> channel. Batch frames go out for every batch count change.
/// The owner notification is idempotent per task and outcome, so a repeated call creates nothing new.
/// </summary>
public sealed class TaskNotifier(
    INotificationStore store,
    IMessageBus bus,
    TaskEvents events,
    NotificationOutbox outbox,
    NotificationIds ids,
    TimeProvider time,
    ILogger<TaskNotifier> logger)
{
    public const string AdminChannel = "admin";

    /// <summary>The caller the Worker's idempotency keys are scoped to (no API key or token subject looks like it).</summary>
    public const string IdempotencyCaller = "notify:worker";

    /// <summary>Publishes the batch's counts after one of its tasks was dequeued.</summary>
    public async Task OnDequeuedAsync(TaskLease lease, CancellationToken cancellationToken)
    {
        try
        {
            await events.PublishAsync(lease, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            WorkerLog.NotifyFailed(logger, ex, lease.Task.Id);
        }
    }

    /// <summary>Publishes what <paramref name="transition"/> means to the owner, the admins and the batch.</summary>
    public async Task OnTransitionAsync(TaskTransition transition, bool notifyOwner, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transition);
        try
        {
            await events.PublishAsync(transition, cancellationToken);
            if (transition.Kind != TransitionKind.Finished || transition.UserId is null)
            {
                return;
            }
            if (notifyOwner && transition.Status is TaskState.Completed or TaskState.Failed)
            {
                await NotifyOwnerAsync(transition, cancellationToken);
            }
            if (transition.Status == TaskState.Failed)
            {
                await NotifyAdminsAsync(transition, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            WorkerLog.NotifyFailed(logger, ex, transition.TaskId);
        }
    }

    private async Task NotifyOwnerAsync(TaskTransition t, CancellationToken cancellationToken)
    {
        var completed = t.Status == TaskState.Completed;
        var notification = new Notification
        {
            Id = ids.Next(),
            UserId = t.UserId!,
            Type = completed ? "task_completed" : "task_failed",
            Title = completed ? $"Task {t.TaskKind} completed" : $"Task {t.TaskKind} failed",
            Content = completed
                ? $"Your {t.TaskKind} task {t.TaskId} completed."
                : Truncate($"Your {t.TaskKind} task {t.TaskId} failed after {t.Attempts} attempt(s): {t.Error}", NotificationLimits.ContentMaxLength),
            Link = $"/api/tasks/{t.TaskId}",
            Source = "worker",
            Severity = completed ? NotificationSeverity.Success : NotificationSeverity.Error,
            CreatedAt = time.GetUtcNow(),
            Metadata = JsonSerializer.SerializeToElement(new Dictionary<string, object?>
            {
                ["task_id"] = t.TaskId,
                ["kind"] = t.TaskKind,
                ["status"] = completed ? "completed" : "failed",
                ["attempts"] = t.Attempts,
                ["batch_id"] = t.BatchId,
                ["error"] = completed ? null : Truncate(t.Error ?? "", 1_000),
            }),
        };
        var key = $"task:{t.TaskId}:{(completed ? "completed" : "failed")}";
        // The key alone names the request: one notification per task and outcome.
        var idempotency = new IdempotencyKey(IdempotencyCaller, key, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key))));
        var created = await store.CreateAsync(notification, idempotency, cancellationToken);
        if (created.Created)
        {
            await outbox.PublishAsync(created.Notification);
        }
    }

    private async Task NotifyAdminsAsync(TaskTransition t, CancellationToken cancellationToken)
    {
        var payload = JsonSerializer.SerializeToElement(new Dictionary<string, object?>
        {
            ["type"] = "system_message",
            ["level"] = "error",
            ["message"] = Truncate($"Task {t.TaskId} ({t.TaskKind}) of {t.UserId} failed after {t.Attempts} attempt(s): {t.Error}", 2_000),
            ["timestamp"] = time.GetUtcNow(),
            ["task_id"] = t.TaskId,
            ["user_id"] = t.UserId,
            ["kind"] = t.TaskKind,
            ["attempts"] = t.Attempts,
            ["error"] = Truncate(t.Error ?? "", 1_000),
        }, NotifyJson.Options);
        await bus.PublishToChannelAsync(BusTopic.Channel(AdminChannel), AdminChannel, payload, cancellationToken);
    }

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max];
}
