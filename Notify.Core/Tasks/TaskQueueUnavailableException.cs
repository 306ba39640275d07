namespace Notify.Core.Tasks;

/// <summary>
/// The <see cref="ITaskQueue"/> could not carry out an operation: its backing store is unreachable, timed out or refused the
/// command. Nothing is known to have happened; the caller may retry. The adapter's own exception is the
/// <see cref="Exception.InnerException"/>.
/// </summary>
public sealed class TaskQueueUnavailableException : Exception
{
    public TaskQueueUnavailableException()
        : base("The task queue is unavailable.")
    {
    }

    public TaskQueueUnavailableException(string message)
        : base(message)
    {
    }

    public TaskQueueUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
