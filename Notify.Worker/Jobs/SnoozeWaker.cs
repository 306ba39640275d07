using Microsoft.Extensions.Options;
using Notify.Core.Json;
using Notify.Core.Messaging;
using Notify.Core.Notifications;

namespace Notify.Worker.Jobs;

/// <summary>
/// Brings snoozed notifications back when their time comes: every <see cref="WorkerOptions.SnoozePollInterval"/>
/// it claims the due ones from the store (<see cref="INotificationStore.WakeDueSnoozesAsync"/>: each is
/// claimed by exactly one caller, however many Workers run) and publishes each as a <c>notification</c>
/// frame on its owner's topic. The claim and its publish are never cut apart by a stop: both run without
/// the stopping token, and the loop checks for a stop only between batches, so a Worker restart neither
/// repeats nor loses a wake-up. A Worker killed between a claim and its publish (a few milliseconds) loses
/// that live push; the notification is back in the inbox, unread, all the same.
/// </summary>
internal sealed class SnoozeWaker(
    INotificationStore store,
    IMessageBus bus,
    TimeProvider time,
    IOptionsMonitor<WorkerOptions> options,
    ILogger<SnoozeWaker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var o = options.CurrentValue;
            try
            {
                IReadOnlyList<Notification> due;
                do
                {
                    due = await store.WakeDueSnoozesAsync(time.GetUtcNow(), o.SnoozeBatchSize, CancellationToken.None);
                    foreach (var notification in due)
                    {
                        await PublishAsync(notification);
                    }
                }
                while (due.Count == o.SnoozeBatchSize && !stoppingToken.IsCancellationRequested);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                WorkerLog.SnoozeWakeFailed(logger, ex);
            }
            try
            {
                await Task.Delay(o.SnoozePollInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task PublishAsync(Notification notification)
    {
        try
        {
            var topic = BusTopic.User(notification.UserId);
            await bus.PublishAsync(topic, Frames.Serialize("notification", notification), CancellationToken.None);
            // Clients that showed it before drop a repeated id; the cleared snooze tells them to reload it.
            await bus.PublishAsync(topic, Frames.Serialize("snoozed", new SnoozeEnded(notification.Id, null)), CancellationToken.None);
            WorkerLog.SnoozeWoken(logger, notification.Id, notification.UserId);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            WorkerLog.SnoozePublishFailed(logger, ex, notification.Id, notification.UserId);
        }
    }

    private sealed record SnoozeEnded(string Id, DateTimeOffset? Until);
}
