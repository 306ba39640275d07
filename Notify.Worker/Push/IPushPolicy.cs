using Notify.Core.Notifications;
using Notify.Core.Presence;

namespace Notify.Worker.Push;

/// <summary>
/// Decides whether a new (or woken) notification is sent as Web Push. The default is
/// <see cref="PreferencePushPolicy"/> (the user's <c>push</c> preference, then presence); register another
/// implementation in the Worker's services to decide otherwise.
/// </summary>
public interface IPushPolicy
{
    ValueTask<bool> ShouldPushAsync(Notification notification, CancellationToken cancellationToken);
}

/// <summary>Push only when the user holds no live notification stream on any Realtime instance (presence in Redis).</summary>
internal sealed class PresencePushPolicy(IPresence presence) : IPushPolicy
{
    public async ValueTask<bool> ShouldPushAsync(Notification notification, CancellationToken cancellationToken)
    {
        var instances = await presence.ListAsync(cancellationToken);
        return !instances.Any(i => i.Users.TryGetValue(notification.UserId, out var streams) && streams > 0);
    }
}
