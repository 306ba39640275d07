using Notify.Core.Notifications;
using Notify.Core.Preferences;
using Notify.Core.Presence;

namespace Notify.Worker.Push;

/// <summary>
/// The default <see cref="IPushPolicy"/>: the user's <c>push</c> preference for the notification's type
/// (resolved like <c>in_app</c>: the user's entry, <c>*</c>, the admin's defaults, else <c>live</c>; inside
/// quiet hours <c>live</c> acts as <c>inbox</c>) must be <c>live</c>, and the user must hold no live
/// notification stream on any Realtime instance (<see cref="PresencePushPolicy"/>). <c>inbox</c> and
/// <c>off</c> never push. (A notification whose <c>in_app</c> mode is <c>off</c> was never stored, so never
/// reaches a policy.)
/// </summary>
internal sealed class PreferencePushPolicy(IPreferencesStore preferences, IPresence presence, TimeProvider time) : IPushPolicy
{
    private readonly PresencePushPolicy _presence = new(presence);

    public async ValueTask<bool> ShouldPushAsync(Notification notification, CancellationToken cancellationToken)
    {
        var user = await preferences.GetAsync(notification.UserId, cancellationToken);
        var defaults = await preferences.GetAsync(IPreferencesStore.DefaultsOwner, cancellationToken);
        var mode = PreferenceResolver.Resolve(user.Preferences, defaults.Preferences, notification.Type, PreferenceChannels.Push, time.GetUtcNow());
        return mode == DeliveryMode.Live && await _presence.ShouldPushAsync(notification, cancellationToken);
    }
}
