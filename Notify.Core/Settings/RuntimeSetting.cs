namespace Notify.Core.Settings;

/// <summary>
/// One key of the runtime settings catalogue: an integer in a unit, with bounds. <see cref="Key"/> is also
/// the configuration path of its default, so <c>Retention:Days</c> in appsettings or the environment
/// (<c>Retention__Days</c>) sets the value used until an administrator stores another one.
/// </summary>
/// <param name="Key">The configuration path and settings key, e.g. <c>Realtime:HeartbeatIntervalSeconds</c>.</param>
/// <param name="BuiltInDefault">The value when neither the database nor configuration sets one.</param>
/// <param name="Min">Smallest allowed value.</param>
/// <param name="Max">Largest allowed value.</param>
/// <param name="Unit">What the integer counts.</param>
/// <param name="Description">What the value does, for the admin surface.</param>
public sealed record RuntimeSetting(string Key, long BuiltInDefault, long Min, long Max, SettingUnit Unit, string Description)
{
    /// <summary>The value as a duration; only for <see cref="SettingUnit.Seconds"/>, <see cref="SettingUnit.Milliseconds"/> and <see cref="SettingUnit.Days"/>.</summary>
    public TimeSpan ToDuration(long value) => Unit switch
    {
        SettingUnit.Milliseconds => TimeSpan.FromMilliseconds(value),
        SettingUnit.Seconds => TimeSpan.FromSeconds(value),
        SettingUnit.Days => TimeSpan.FromDays(value),
        _ => throw new InvalidOperationException($"Runtime setting '{Key}' is a {Unit}, not a duration."),
    };
}

/// <summary>What a runtime setting's integer counts.</summary>
public enum SettingUnit
{
    /// <summary>A plain number (items, slots).</summary>
    Count,

    /// <summary>Milliseconds.</summary>
    Milliseconds,

    /// <summary>Seconds.</summary>
    Seconds,

    /// <summary>Days.</summary>
    Days,
}
