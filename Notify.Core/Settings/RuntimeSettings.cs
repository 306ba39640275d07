using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Notify.Core.Settings;

/// <summary>
/// The effective runtime settings of this service: values stored in the database (by
/// <c>PUT /api/admin/settings</c>) merged over configuration, merged over the built-in defaults of
/// <see cref="RuntimeSettingKeys"/>. Reads are lock-free lookups in an in-memory snapshot that a
/// background poller refreshes every <see cref="RuntimeSettingsOptions.RefreshInterval"/>, so code may
/// call <see cref="Get"/> on every heartbeat; <see cref="OnChange"/> tells it when a value changed.
/// </summary>
public sealed class RuntimeSettings
{
    private const int MaxUpdateAttempts = 8;

    private static readonly Dictionary<string, int> Index = RuntimeSettingKeys.All
        .Select((setting, i) => (setting.Key, i))
        .ToDictionary(p => p.Key, p => p.i, StringComparer.OrdinalIgnoreCase);

    private readonly ISettingsStore _store;
    private readonly IConfiguration _configuration;
    private readonly TimeProvider _time;
    private readonly ILogger<RuntimeSettings> _logger;
    private readonly Lock _gate = new();
    private Snapshot _snapshot;
    private CancellationTokenSource _changed = new();

    /// <summary>
    /// Starts from configuration and the built-in defaults (nothing is read from the store until the
    /// first refresh). Throws when configuration sets a catalogue key to a non-integer or out-of-range value.
    /// </summary>
    public RuntimeSettings(ISettingsStore store, IConfiguration configuration, TimeProvider time, ILogger<RuntimeSettings> logger)
    {
        _store = store;
        _configuration = configuration;
        _time = time;
        _logger = logger;
        var errors = RuntimeSettingKeys.All
            .Select(setting => ConfiguredDefault(setting, out var error) is null && error is not null ? error : null)
            .OfType<string>()
            .ToList();
        if (errors.Count > 0)
        {
            throw new InvalidOperationException("Invalid runtime settings in configuration: " + string.Join(" ", errors));
        }
        _snapshot = Build(StoredSettings.Empty);
    }

    /// <summary>The version of the stored settings this snapshot reflects (0: nothing stored).</summary>
    public long Version => Volatile.Read(ref _snapshot).Stored.Version;

    /// <summary>The effective value of <paramref name="setting"/>.</summary>
    public long Get(RuntimeSetting setting) => Volatile.Read(ref _snapshot).Values[IndexOf(setting)];

    /// <summary>The effective value of <paramref name="setting"/> as an <see cref="int"/> (every catalogue maximum fits).</summary>
    public int GetInt32(RuntimeSetting setting) => checked((int)Get(setting));

    /// <summary>The effective value of a seconds, milliseconds or days setting as a <see cref="TimeSpan"/>.</summary>
    public TimeSpan GetDuration(RuntimeSetting setting)
    {
        ArgumentNullException.ThrowIfNull(setting);
        return setting.ToDuration(Get(setting));
    }

    /// <summary>A token that fires once when any effective value changes.</summary>
    public IChangeToken GetChangeToken()
    {
        lock (_gate)
        {
            return new CancellationChangeToken(_changed.Token);
        }
    }

    /// <summary>Calls <paramref name="listener"/> after every change of an effective value, until disposed.</summary>
    public IDisposable OnChange(Action listener) => ChangeToken.OnChange(GetChangeToken, listener);

    /// <summary>Every setting with its effective value, where that value comes from, and its bounds.</summary>
    public RuntimeSettingsView Describe() => Volatile.Read(ref _snapshot).ToView();

    /// <summary>Re-reads the store now (the poller does this periodically) and returns the fresh view.</summary>
    public async Task<RuntimeSettingsView> RefreshAsync(CancellationToken cancellationToken)
    {
        var stored = await _store.GetAsync(cancellationToken);
        return Apply(stored).ToView();
    }

    /// <summary>
    /// Stores <paramref name="changes"/> (catalogue key → integer, or null to drop the stored value and fall
    /// back to configuration) and applies them to this service at once; other services pick them up within
    /// the refresh interval. With <paramref name="expectedVersion"/> the update is refused with
    /// <see cref="RuntimeSettingsUpdateStatus.Conflict"/> when the stored version differs; without it, it is
    /// retried on top of concurrent updates. Unknown keys, JSON that is not an integer or null, and values
    /// out of range are refused with <see cref="RuntimeSettingsUpdateStatus.Invalid"/>, naming each key.
    /// </summary>
    public Task<RuntimeSettingsUpdateResult> UpdateAsync(IReadOnlyDictionary<string, JsonElement> changes, long? expectedVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var parsed = new Dictionary<string, long?>(StringComparer.OrdinalIgnoreCase);
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var (key, value) in changes)
        {
            if (value.ValueKind == JsonValueKind.Null)
            {
                parsed[key] = null;
            }
            else if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number))
            {
                parsed[key] = number;
            }
            else
            {
                errors[key] = ["Must be an integer, or null to use the configured value."];
            }
        }
        return errors.Count > 0
            ? Task.FromResult(RuntimeSettingsUpdateResult.Invalid(errors))
            : UpdateAsync(parsed, expectedVersion, cancellationToken);
    }

    /// <inheritdoc cref="UpdateAsync(IReadOnlyDictionary{string, JsonElement}, long?, CancellationToken)"/>
    public async Task<RuntimeSettingsUpdateResult> UpdateAsync(IReadOnlyDictionary<string, long?> changes, long? expectedVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var errors = Validate(changes);
        if (errors.Count > 0)
        {
            return RuntimeSettingsUpdateResult.Invalid(errors);
        }

        for (var attempt = 0; attempt < MaxUpdateAttempts; attempt++)
        {
            var current = await _store.GetAsync(cancellationToken);
            if (expectedVersion is { } expected && current.Version != expected)
            {
                Apply(current);
                return RuntimeSettingsUpdateResult.Conflict(current.Version);
            }

            var merged = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (key, value) in current.Values)
            {
                if (RuntimeSettingKeys.Find(key) is { } known)
                {
                    merged[known.Key] = value;
                }
            }
            foreach (var (key, value) in changes)
            {
                var setting = RuntimeSettingKeys.Find(key)!;
                if (value is { } number)
                {
                    merged[setting.Key] = number.ToString(CultureInfo.InvariantCulture);
                }
                else
                {
                    merged.Remove(setting.Key);
                }
            }

            var stored = await _store.TryPutAsync(merged, current.Version, _time.GetUtcNow(), cancellationToken);
            if (stored is not null)
            {
                SettingsLog.Updated(_logger, stored.Version, string.Join(", ", changes.Keys));
                return RuntimeSettingsUpdateResult.Success(Apply(stored).ToView());
            }
            if (expectedVersion is not null)
            {
                var latest = await _store.GetAsync(cancellationToken);
                Apply(latest);
                return RuntimeSettingsUpdateResult.Conflict(latest.Version);
            }
        }
        return RuntimeSettingsUpdateResult.Conflict(Version);
    }

    /// <summary>Errors by key for unknown keys and out-of-range values; empty when every change is valid.</summary>
    public static Dictionary<string, string[]> Validate(IReadOnlyDictionary<string, long?> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var (key, value) in changes)
        {
            if (RuntimeSettingKeys.Find(key) is not { } setting)
            {
                errors[key] = ["Unknown setting. Known settings: " + string.Join(", ", RuntimeSettingKeys.All.Select(s => s.Key)) + "."];
            }
            else if (value is { } number && (number < setting.Min || number > setting.Max))
            {
                errors[key] = [$"Must be between {setting.Min} and {setting.Max} ({setting.Unit})."];
            }
        }
        return errors;
    }

    private static int IndexOf(RuntimeSetting setting)
    {
        ArgumentNullException.ThrowIfNull(setting);
        return Index.TryGetValue(setting.Key, out var index)
            ? index
            : throw new ArgumentException($"'{setting.Key}' is not in the runtime settings catalogue.", nameof(setting));
    }

    private Snapshot Apply(StoredSettings stored)
    {
        lock (_gate)
        {
            var previous = _snapshot;
            // Never go back to an older version read by a slower concurrent refresh.
            if (stored.Version < previous.Stored.Version)
            {
                return previous;
            }
            var next = Build(stored);
            _snapshot = next;
            if (!next.Values.AsSpan().SequenceEqual(previous.Values))
            {
                var changed = _changed;
                _changed = new CancellationTokenSource();
                changed.Cancel();
                changed.Dispose();
            }
            return next;
        }
    }

    private Snapshot Build(StoredSettings stored)
    {
        var all = RuntimeSettingKeys.All;
        var values = new long[all.Count];
        var sources = new RuntimeSettingSource[all.Count];
        var storedByKey = new Dictionary<string, string>(stored.Values, StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < all.Count; i++)
        {
            var setting = all[i];
            var configured = ConfiguredDefault(setting, out _);
            if (storedByKey.TryGetValue(setting.Key, out var text)
                && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var fromStore)
                && fromStore >= setting.Min && fromStore <= setting.Max)
            {
                values[i] = fromStore;
                sources[i] = RuntimeSettingSource.Database;
            }
            else
            {
                if (text is not null)
                {
                    SettingsLog.StoredValueIgnored(_logger, setting.Key, text);
                }
                values[i] = configured ?? setting.BuiltInDefault;
                sources[i] = configured is null ? RuntimeSettingSource.Default : RuntimeSettingSource.Configuration;
            }
        }
        return new Snapshot(values, sources, stored, this);
    }

    /// <summary>The configured value of <paramref name="setting"/>; null when unset or invalid (then <paramref name="error"/> says why).</summary>
    private long? ConfiguredDefault(RuntimeSetting setting, out string? error)
    {
        error = null;
        var text = _configuration[setting.Key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < setting.Min || value > setting.Max)
        {
            error = $"{setting.Key} must be an integer between {setting.Min} and {setting.Max} (was '{text}').";
            return null;
        }
        return value;
    }

    private sealed record Snapshot(long[] Values, RuntimeSettingSource[] Sources, StoredSettings Stored, RuntimeSettings Owner)
    {
        public RuntimeSettingsView ToView()
        {
            var all = RuntimeSettingKeys.All;
            var items = new List<RuntimeSettingValue>(all.Count);
            for (var i = 0; i < all.Count; i++)
            {
                var setting = all[i];
                items.Add(new RuntimeSettingValue(
                    setting.Key,
                    Values[i],
                    Sources[i],
                    Owner.ConfiguredDefault(setting, out _) ?? setting.BuiltInDefault,
                    setting.Min,
                    setting.Max,
                    setting.Unit,
                    setting.Description));
            }
            return new RuntimeSettingsView(Stored.Version, Stored.UpdatedAt, items);
        }
    }
}
