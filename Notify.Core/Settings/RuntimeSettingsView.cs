using System.Collections.ObjectModel;

namespace Notify.Core.Settings;

/// <summary>Every runtime setting as this service applies it, for <c>GET /api/admin/settings</c>.</summary>
/// <param name="Version">Version of the stored settings (0: none stored); send it back to update without overwriting a concurrent change.</param>
/// <param name="UpdatedAt">When the stored settings last changed; null when none are stored.</param>
/// <param name="Settings">Each setting of <see cref="RuntimeSettingKeys.All"/>, in that order.</param>
public sealed record RuntimeSettingsView(long Version, DateTimeOffset? UpdatedAt, IReadOnlyList<RuntimeSettingValue> Settings);

/// <summary>One setting's effective value and its metadata.</summary>
/// <param name="Key">The catalogue key (also its configuration path).</param>
/// <param name="Value">The effective value.</param>
/// <param name="Source">Where <paramref name="Value"/> comes from.</param>
/// <param name="Default">The value without a stored override (configuration, else built-in).</param>
/// <param name="Min">Smallest allowed value.</param>
/// <param name="Max">Largest allowed value.</param>
/// <param name="Unit">What the integer counts.</param>
/// <param name="Description">What the setting does.</param>
public sealed record RuntimeSettingValue(string Key, long Value, RuntimeSettingSource Source, long Default, long Min, long Max, SettingUnit Unit, string Description);

/// <summary>Where an effective value comes from.</summary>
public enum RuntimeSettingSource
{
    /// <summary>The built-in default of the catalogue.</summary>
    Default,

    /// <summary>Configuration (appsettings, environment) at the setting's key.</summary>
    Configuration,

    /// <summary>A value an administrator stored.</summary>
    Database,
}

/// <summary>Outcome of <see cref="RuntimeSettings.UpdateAsync(IReadOnlyDictionary{string, long?}, long?, CancellationToken)"/>.</summary>
public enum RuntimeSettingsUpdateStatus
{
    /// <summary>Stored and applied; <see cref="RuntimeSettingsUpdateResult.View"/> is the new state.</summary>
    Success,

    /// <summary>Nothing stored; <see cref="RuntimeSettingsUpdateResult.Errors"/> names each bad key (a 400).</summary>
    Invalid,

    /// <summary>Nothing stored: the expected version is not the stored one (a 409/412); <see cref="RuntimeSettingsUpdateResult.CurrentVersion"/> is.</summary>
    Conflict,
}

/// <summary>Result of a settings update.</summary>
public sealed record RuntimeSettingsUpdateResult(
    RuntimeSettingsUpdateStatus Status,
    RuntimeSettingsView? View,
    IReadOnlyDictionary<string, string[]> Errors,
    long CurrentVersion)
{
    private static readonly IReadOnlyDictionary<string, string[]> NoErrors = ReadOnlyDictionary<string, string[]>.Empty;

    internal static RuntimeSettingsUpdateResult Success(RuntimeSettingsView view) => new(RuntimeSettingsUpdateStatus.Success, view, NoErrors, view.Version);

    internal static RuntimeSettingsUpdateResult Invalid(Dictionary<string, string[]> errors) => new(RuntimeSettingsUpdateStatus.Invalid, null, errors, -1);

    internal static RuntimeSettingsUpdateResult Conflict(long currentVersion) => new(RuntimeSettingsUpdateStatus.Conflict, null, NoErrors, currentVersion);
}
