using Notify.Core.Notifications;
using Notify.Core.Presence;

namespace Notify.Worker.Push;

/// <summary>
/// Decides whether a new notification is sent as Web Push. The hook user preferences plug into: register
/// another implementation (for example "push when the type's preference asks for it, else when offline")
/// in place of <see cref="PresencePushPolicy"/>.
/// </summary>
public interface IPushPolicy
{
    ValueTask<bool> ShouldPushAsync(Notification notification, CancellationToken cancellationToken);
}

/// <summary>The default: push only when the user holds no live notification stream on any Realtime instance (presence in Redis).</summary>
internal sealed class PresencePushPolicy(IPresence presence) : IPushPolicy
{
    public async ValueTask<bool> ShouldPushAsync(Notification notification, CancellationToken cancellationToken)
    {
        var instances = await presence.ListAsync(cancellationToken);
        return !instances.Any(i => i.Users.TryGetValue(notification.UserId, out var streams) && streams > 0);
    }
}
