using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Notify.Core.Auth;
using Notify.Core.Settings;

namespace Notify.Api.Apis;

/// <summary>
/// Runtime settings (admin): values stored in the database, merged over configuration, picked up by every
/// service within <c>RuntimeSettings:RefreshInterval</c> without a restart.
/// </summary>
internal static class SettingsApi
{
    public static IEndpointRouteBuilder MapSettingsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/admin/settings")
            .WithTags("Admin")
            .RequireAuthorization(NotifyRoles.AdminPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        api.MapGet("/", GetAsync)
            .WithName("GetSettings")
            .WithSummary("Every runtime setting: effective value, source, default, bounds, unit")
            .WithDescription("`version` is the stored version; send it back as `If-Match` to update without overwriting a concurrent change.");
        api.MapPut("/", PutAsync)
            .WithName("PutSettings")
            .WithSummary("Stores runtime settings")
            .WithDescription("Body: an object of setting key → integer (or null to drop the stored value and fall back to configuration). " +
                "Keys not in the body keep their stored value. Unknown keys and out-of-range values are a 400 naming the key. " +
                "With `If-Match: <version>` a concurrent change is a 412 instead of being overwritten.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status412PreconditionFailed);
        return app;
    }

    public static async Task<Ok<RuntimeSettingsView>> GetAsync(RuntimeSettings settings, CancellationToken cancellationToken) =>
        TypedResults.Ok(await settings.RefreshAsync(cancellationToken));

    public static async Task<Results<Ok<RuntimeSettingsView>, ValidationProblem, ProblemHttpResult>> PutAsync(
        Dictionary<string, JsonElement> changes,
        [FromHeader(Name = "If-Match")] string? ifMatch,
        ClaimsPrincipal user, RuntimeSettings settings, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        long? expected = null;
        if (!string.IsNullOrEmpty(ifMatch))
        {
            if (!long.TryParse(ifMatch.Trim().Trim('"'), NumberStyles.None, CultureInfo.InvariantCulture, out var version))
            {
                return Problems.Field("If-Match", "must be a settings version, e.g. \"3\".");
            }
            expected = version;
        }

        var result = await settings.UpdateAsync(changes, expected, cancellationToken);
        switch (result.Status)
        {
            case RuntimeSettingsUpdateStatus.Invalid:
                return TypedResults.ValidationProblem(result.Errors.ToDictionary());
            case RuntimeSettingsUpdateStatus.Conflict:
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status412PreconditionFailed,
                    title: "Precondition Failed",
                    detail: $"The settings changed meanwhile; the stored version is {result.CurrentVersion}.",
                    extensions: new Dictionary<string, object?> { ["current_version"] = result.CurrentVersion });
            default:
                ApiLog.SettingsChanged(loggers.CreateLogger(typeof(SettingsApi)), user.GetUserId() ?? "?", string.Join(", ", changes.Keys));
                return TypedResults.Ok(result.View!);
        }
    }
}
