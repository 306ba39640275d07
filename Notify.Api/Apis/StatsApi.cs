using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Notify.Core.Auth;
using Notify.Core.Presence;

namespace Notify.Api.Apis;

/// <summary>
/// Realtime statistics served by the Api too (PROTOCOL.md §6), read from the presence every Realtime
/// instance keeps in Redis, so the numbers are the same whichever service answers (both read them at
/// most once a second, <see cref="PresenceStatsCache"/>).
/// </summary>
internal static class StatsApi
{
    public static IEndpointRouteBuilder MapStatsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/ws/stats", GetStatsAsync).WithTags("Realtime").WithSummary("Connections and users over every Realtime instance (admin)");
        app.MapGet("/api/notifications/online-count", GetOnlineCountAsync).WithTags("Realtime").WithSummary("Users with at least one live connection");
        return app;
    }

    public static async Task<Results<Ok<PresenceStats>, ProblemHttpResult>> GetStatsAsync(
        ClaimsPrincipal user, PresenceStatsCache presence, CancellationToken cancellationToken)
    {
        if (user.Identity?.IsAuthenticated != true)
        {
            return TypedResults.Problem("Authentication required.", statusCode: StatusCodes.Status401Unauthorized);
        }
        if (!user.IsAdmin())
        {
            return TypedResults.Problem("The admin role is required.", statusCode: StatusCodes.Status403Forbidden);
        }
        return TypedResults.Ok(await presence.GetAsync(cancellationToken));
    }

    public static async Task<Results<Ok<OnlineCountResponse>, ProblemHttpResult>> GetOnlineCountAsync(
        ClaimsPrincipal user, PresenceStatsCache presence, CancellationToken cancellationToken)
    {
        if (user.Identity?.IsAuthenticated != true)
        {
            return TypedResults.Problem("Authentication required.", statusCode: StatusCodes.Status401Unauthorized);
        }
        return TypedResults.Ok(new OnlineCountResponse((await presence.GetAsync(cancellationToken)).TotalUsers));
    }

    /// <summary>Body of <c>GET /api/notifications/online-count</c>.</summary>
    public sealed record OnlineCountResponse(int OnlineCount);
}
