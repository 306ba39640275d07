using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Notify.Api.Auth;
using Notify.Api.Notifications;
using Notify.Core.Auth;
using Notify.Core.Preferences;

namespace Notify.Api.Apis;

/// <summary>
/// What reaches a user (per type and channel: live, inbox or off; quiet hours) and the admin's defaults per
/// type. Versioned like the runtime settings: the answer's <c>version</c> (and <c>ETag</c>) goes back as
/// <c>If-Match</c>, and a concurrent change is a 412.
/// </summary>
internal static class PreferencesApi
{
    public static IEndpointRouteBuilder MapPreferencesApi(this IEndpointRouteBuilder app)
    {
        var mine = app.MapGroup("/api/me/preferences")
            .WithTags("Preferences")
            .RequireAuthorization(ApiAuth.UserPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        mine.MapGet("/", GetMineAsync)
            .WithName("GetPreferences")
            .WithSummary("The caller's preferences, and the admin's defaults that apply where the caller chose nothing");
        mine.MapPut("/", PutMineAsync)
            .WithName("PutPreferences")
            .WithSummary("Replaces the caller's preferences")
            .WithDescription("Body: `{\"types\": {\"<type>|*\": {\"in_app\": \"live|inbox|off\", \"push\": \"live|inbox|off\"}}, \"quiet_hours\": {\"start\": \"22:00\", \"end\": \"07:00\", \"time_zone\": \"Europe/Berlin\"} | null}`. " +
                "At most 100 types. With `If-Match: <version>` a concurrent change is a 412. Publishes a `preferences` frame to the caller's connections.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status412PreconditionFailed);

        var defaults = app.MapGroup("/api/admin/preferences/defaults")
            .WithTags("Admin")
            .RequireAuthorization(NotifyRoles.AdminPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        defaults.MapGet("/", GetDefaultsAsync)
            .WithName("GetDefaultPreferences")
            .WithSummary("The defaults per type that apply to every user who chose nothing for the type");
        defaults.MapPut("/", PutDefaultsAsync)
            .WithName("PutDefaultPreferences")
            .WithSummary("Replaces the default preferences")
            .WithDescription("Same body as PUT /api/me/preferences; `quiet_hours` must be null (quiet hours are the user's).")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status412PreconditionFailed);
        return app;
    }

    public static async Task<Ok<PreferencesResponse>> GetMineAsync(ClaimsPrincipal user, HttpResponse response, IPreferencesStore store, CancellationToken cancellationToken)
    {
        var stored = await store.GetAsync(user.GetUserId()!, cancellationToken);
        var defaults = await store.GetAsync(IPreferencesStore.DefaultsOwner, cancellationToken);
        return Answer(response, stored, defaults.Preferences);
    }

    public static async Task<Results<Ok<PreferencesResponse>, ValidationProblem, ProblemHttpResult>> PutMineAsync(
        JsonElement body, [FromHeader(Name = "If-Match")] string? ifMatch,
        ClaimsPrincipal user, HttpResponse response, IPreferencesStore store, NotificationService notifications, TimeProvider time, CancellationToken cancellationToken)
    {
        var userId = user.GetUserId()!;
        var result = await PutAsync(userId, body, ifMatch, allowQuietHours: true, response, store, time, cancellationToken);
        if (result.Result is Ok<PreferencesResponse> ok)
        {
            await notifications.PreferencesChangedAsync(userId, ok.Value!.Version);
        }
        return result;
    }

    public static async Task<Ok<PreferencesResponse>> GetDefaultsAsync(HttpResponse response, IPreferencesStore store, CancellationToken cancellationToken) =>
        Answer(response, await store.GetAsync(IPreferencesStore.DefaultsOwner, cancellationToken), null);

    public static async Task<Results<Ok<PreferencesResponse>, ValidationProblem, ProblemHttpResult>> PutDefaultsAsync(
        JsonElement body, [FromHeader(Name = "If-Match")] string? ifMatch,
        ClaimsPrincipal user, HttpResponse response, IPreferencesStore store, TimeProvider time, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var result = await PutAsync(IPreferencesStore.DefaultsOwner, body, ifMatch, allowQuietHours: false, response, store, time, cancellationToken);
        if (result.Result is Ok<PreferencesResponse>)
        {
            ApiLog.DefaultPreferencesChanged(loggers.CreateLogger(typeof(PreferencesApi)), user.GetUserId() ?? "?");
        }
        return result;
    }

    private static async Task<Results<Ok<PreferencesResponse>, ValidationProblem, ProblemHttpResult>> PutAsync(
        string owner, JsonElement body, string? ifMatch, bool allowQuietHours,
        HttpResponse response, IPreferencesStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = PreferencesValidator.Parse(body, out var preferences);
        if (!allowQuietHours && preferences.QuietHours is not null)
        {
            errors["quiet_hours"] = ["must be null for the defaults: quiet hours are each user's own."];
        }
        long? expected = null;
        if (!string.IsNullOrEmpty(ifMatch))
        {
            if (long.TryParse(ifMatch.Trim().Trim('"'), NumberStyles.None, CultureInfo.InvariantCulture, out var version))
            {
                expected = version;
            }
            else
            {
                errors["If-Match"] = ["must be a preferences version, e.g. \"3\"."];
            }
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var current = await store.GetAsync(owner, cancellationToken);
        if (expected is { } wanted && wanted != current.Version)
        {
            return Conflict(current.Version);
        }
        var stored = await store.TryPutAsync(owner, preferences, current.Version, time.GetUtcNow(), cancellationToken);
        if (stored is null)
        {
            // Another write came between the read and this one.
            return Conflict((await store.GetAsync(owner, cancellationToken)).Version);
        }
        var defaults = owner == IPreferencesStore.DefaultsOwner ? null : (await store.GetAsync(IPreferencesStore.DefaultsOwner, cancellationToken)).Preferences;
        return Answer(response, stored, defaults);
    }

    private static ProblemHttpResult Conflict(long version) => TypedResults.Problem(
        statusCode: StatusCodes.Status412PreconditionFailed,
        title: "Precondition Failed",
        detail: $"The preferences changed meanwhile; the stored version is {version}.",
        extensions: new Dictionary<string, object?> { ["current_version"] = version });

    private static Ok<PreferencesResponse> Answer(HttpResponse response, StoredPreferences stored, NotificationPreferences? defaults)
    {
        response.Headers.ETag = $"\"{stored.Version.ToString(CultureInfo.InvariantCulture)}\"";
        return TypedResults.Ok(new PreferencesResponse(
            stored.Version, stored.UpdatedAt, stored.Preferences.Types, stored.Preferences.QuietHours,
            defaults?.Types, PreferenceChannels.All));
    }
}

/// <summary>Preferences as the API answers them.</summary>
/// <param name="Version">The stored version (0: nothing stored); send it back as <c>If-Match</c>.</param>
/// <param name="UpdatedAt">When they were last stored.</param>
/// <param name="Types">Type (or <c>*</c>) → channel → mode.</param>
/// <param name="QuietHours">The quiet-hours window, or null.</param>
/// <param name="Defaults">The admin's defaults per type (on the user's own preferences only).</param>
/// <param name="Channels">The channels a preference may name.</param>
public sealed record PreferencesResponse(
    long Version,
    DateTimeOffset? UpdatedAt,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, DeliveryMode>> Types,
    QuietHours? QuietHours,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, DeliveryMode>>? Defaults,
    IReadOnlyList<string> Channels);
