using Notify.Core.Preferences;
using Notify.Realtime.Connections;

namespace Notify.Realtime.Preferences;

/// <summary>
/// Makes each notification stream's <see cref="MessagePreferenceFilter"/> and keeps the admin's default
/// preferences for all of them, reloaded in the background at most every <see cref="DefaultsRefresh"/>
/// (the defaults change rarely, and no frame announces a change to them).
/// </summary>
internal sealed partial class PreferenceFilters(IPreferencesStore store, TimeProvider time, ILogger<PreferenceFilters> logger)
{
    /// <summary>How old the cached defaults may get before a frame that needs them starts a reload.</summary>
    public static readonly TimeSpan DefaultsRefresh = TimeSpan.FromSeconds(30);

    private volatile OffPreferences? _defaults;
    private long _defaultsLoadedAt;
    private int _defaultsLoading;

    /// <summary>The admin's defaults as last loaded (empty before the first load).</summary>
    public OffPreferences Defaults => DefaultsAt(time.GetUtcNow());

    /// <summary>
    /// <see cref="Defaults"/> as seen at <paramref name="now"/>, a time the caller has read already: a fan-out asks
    /// for every receiver and reads the clock once.
    /// </summary>
    public OffPreferences DefaultsAt(DateTimeOffset now)
    {
        if (now.UtcTicks - Interlocked.Read(ref _defaultsLoadedAt) > DefaultsRefresh.Ticks
            && Interlocked.Exchange(ref _defaultsLoading, 1) == 0)
        {
            _ = RefreshDefaultsAsync();
        }
        return _defaults ?? OffPreferences.Empty;
    }

    /// <summary>Attaches a filter with the user's current preferences to a notification stream.</summary>
    public async Task AttachAsync(ClientConnection connection, CancellationToken cancellationToken)
    {
        if (_defaults is null)
        {
            await LoadDefaultsAsync(cancellationToken);
        }
        var user = await store.GetAsync(connection.UserId, cancellationToken);
        connection.Preferences = new MessagePreferenceFilter(this, connection.UserId, user.Preferences);
    }

    /// <summary>The user's preferences now; null (logged) when the store cannot be read, so the caller keeps what it has.</summary>
    public async Task<NotificationPreferences?> TryLoadUserAsync(string userId)
    {
        try
        {
            return (await store.GetAsync(userId, CancellationToken.None)).Preferences;
        }
        catch (Exception ex)
        {
            LoadFailed(logger, ex);
            return null;
        }
    }

    private async Task LoadDefaultsAsync(CancellationToken cancellationToken)
    {
        var loaded = await store.GetAsync(IPreferencesStore.DefaultsOwner, cancellationToken);
        _defaults = new OffPreferences(loaded.Preferences);
        Interlocked.Exchange(ref _defaultsLoadedAt, time.GetUtcNow().UtcTicks);
    }

    private async Task RefreshDefaultsAsync()
    {
        try
        {
            await LoadDefaultsAsync(CancellationToken.None);
        }
        catch (Exception ex)
        {
            LoadFailed(logger, ex);
        }
        finally
        {
            Volatile.Write(ref _defaultsLoading, 0);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not reload preferences for broadcast filtering; the previous ones stay in force")]
    private static partial void LoadFailed(ILogger logger, Exception exception);
}
