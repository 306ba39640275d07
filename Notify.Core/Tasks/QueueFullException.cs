namespace Notify.Core.Tasks;

/// <summary>The queue refused new tasks because a cap on waiting tasks is reached.</summary>
public sealed class QueueFullException : Exception
{
    public QueueFullException()
        : base("The queue is full.")
    {
    }

    public QueueFullException(string message)
        : base(message)
    {
    }

    public QueueFullException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The caller's own cap (<see cref="QueueOptions.MaxQueuedPerUser"/>) was hit, not the queue's total.</summary>
    public bool IsUserCap { get; init; }
}
