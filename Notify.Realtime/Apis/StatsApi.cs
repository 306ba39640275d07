using Microsoft.AspNetCore.Http.HttpResults;
using Notify.Core.Auth;
using Notify.Core.Presence;

namespace Notify.Realtime.Apis;

/// <summary>Realtime statistics summed over every live instance from Redis presence (PROTOCOL.md §6), read at most once a second.</summary>
internal static class StatsApi
{
    public static IEndpointRouteBuilder MapStatsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/ws/stats", GetStats).RequireAuthorization(NotifyRoles.AdminPolicy);
        app.MapGet("/api/notifications/online-count", GetOnlineCount).RequireAuthorization();
        return app;
    }

    private static async Task<Ok<PresenceStats>> GetStats(PresenceStatsCache presence, CancellationToken cancellationToken) =>
        TypedResults.Ok(await presence.GetAsync(cancellationToken));

    private static async Task<Ok<OnlineCountResponse>> GetOnlineCount(PresenceStatsCache presence, CancellationToken cancellationToken) =>
        TypedResults.Ok(new OnlineCountResponse((await presence.GetAsync(cancellationToken)).TotalUsers));

    internal sealed record OnlineCountResponse(int OnlineCount);
}
