using Notify.Core.Json;
using Notify.Core.Messaging;

namespace Notify.Core.Tasks;

/// <summary>
/// Publishes batch frames after a queue state change (task frames are published by the queue itself,
/// inside the state change). Every process that changes task state (Api cancel, Worker) calls it with
/// the <see cref="TaskTransition"/> or lease it got, so the batch topic sees every count change and
/// exactly one <c>finished</c>.
/// </summary>
public sealed class TaskEvents(IMessageBus bus, TimeProvider time)
{
    /// <summary>Publishes the batch's <c>progress</c> (and <c>finished</c> when this transition finished it).</summary>
    public Task PublishAsync(TaskTransition transition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transition);
        return transition is { BatchId: { } batchId, Batch: { } counts }
            ? PublishBatchAsync(batchId, counts, transition.BatchFinished, cancellationToken)
            : Task.CompletedTask;
    }

    /// <summary>Publishes the batch's <c>progress</c> after a dequeue moved one of its tasks to running.</summary>
    public Task PublishAsync(TaskLease lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        return lease is { Task.BatchId: { } batchId, Batch: { } counts }
            ? PublishBatchAsync(batchId, counts, finished: false, cancellationToken)
            : Task.CompletedTask;
    }

    private async Task PublishBatchAsync(string batchId, BatchCounts counts, bool finished, CancellationToken cancellationToken)
    {
        var data = BatchProgress.From(batchId, counts, time.GetUtcNow());
        var topic = BusTopic.Batch(batchId);
        await bus.PublishAsync(topic, Frames.Serialize(TaskFrames.Progress, data), cancellationToken);
        if (finished)
        {
            await bus.PublishAsync(topic, Frames.Serialize(TaskFrames.Finished, data), cancellationToken);
        }
    }
}
