namespace Notify.Core.Messaging;

/// <summary>
/// The <see cref="IMessageBus"/> could not carry out an operation: its backing store is unreachable, timed out or refused the
/// command. Nothing is known to have happened; the caller may retry. The adapter's own exception is the
/// <see cref="Exception.InnerException"/>.
/// </summary>
public sealed class MessageBusUnavailableException : Exception
{
    public MessageBusUnavailableException()
        : base("The message bus is unavailable.")
    {
    }

    public MessageBusUnavailableException(string message)
        : base(message)
    {
    }

    public MessageBusUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
