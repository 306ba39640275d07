using Microsoft.AspNetCore.Http.HttpResults;
using Notify.Core.Auth;
using Notify.Core.Presence;

namespace Notify.Realtime.Apis;

/// <summary>Realtime statistics summed over every live instance from Redis presence (PROTOCOL.md §6).</summary>
internal static class StatsApi
{
    public static IEndpointRouteBuilder MapStatsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/ws/stats", GetStats).RequireAuthorization(NotifyRoles.AdminPolicy);
        app.MapGet("/api/notifications/online-count", GetOnlineCount).RequireAuthorization();
        return app;
    }

    private static async Task<Ok<PresenceStats>> GetStats(IPresence presence, CancellationToken cancellationToken) =>
        TypedResults.Ok(PresenceStats.From(await presence.ListAsync(cancellationToken)));

    private static async Task<Ok<OnlineCountResponse>> GetOnlineCount(IPresence presence, CancellationToken cancellationToken) =>
        TypedResults.Ok(new OnlineCountResponse(PresenceStats.From(await presence.ListAsync(cancellationToken)).TotalUsers));

    internal sealed record OnlineCountResponse(int OnlineCount);
}
