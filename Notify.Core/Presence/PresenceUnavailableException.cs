namespace Notify.Core.Presence;

/// <summary>
/// The <see cref="IPresence"/> registry could not carry out an operation: its backing store is unreachable, timed out or refused the
/// command. Nothing is known to have happened; the caller may retry. The adapter's own exception is the
/// <see cref="Exception.InnerException"/>.
/// </summary>
public sealed class PresenceUnavailableException : Exception
{
    public PresenceUnavailableException()
        : base("Presence is unavailable.")
    {
    }

    public PresenceUnavailableException(string message)
        : base(message)
    {
    }

    public PresenceUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
