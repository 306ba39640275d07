using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Notify.Core.Auth;
using Notify.Core.Messaging;
using Notify.Core.Presence;
using StackExchange.Redis;

namespace Notify.Api.Apis;

/// <summary>
/// Realtime statistics served by the Api too (PROTOCOL.md §6), read from the presence every Realtime
/// instance keeps in Redis, so the numbers are the same whichever service answers.
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
        ClaimsPrincipal user, IServiceProvider services, CancellationToken cancellationToken)
    {
        if (user.Identity?.IsAuthenticated != true)
        {
            return TypedResults.Problem("Authentication required.", statusCode: StatusCodes.Status401Unauthorized);
        }
        if (!user.IsAdmin())
        {
            return TypedResults.Problem("The admin role is required.", statusCode: StatusCodes.Status403Forbidden);
        }
        return TypedResults.Ok(PresenceStats.From(await Presence(services).ListAsync(cancellationToken)));
    }

    public static async Task<Results<Ok<OnlineCountResponse>, ProblemHttpResult>> GetOnlineCountAsync(
        ClaimsPrincipal user, IServiceProvider services, CancellationToken cancellationToken)
    {
        if (user.Identity?.IsAuthenticated != true)
        {
            return TypedResults.Problem("Authentication required.", statusCode: StatusCodes.Status401Unauthorized);
        }
        return TypedResults.Ok(new OnlineCountResponse(PresenceStats.From(await Presence(services).ListAsync(cancellationToken)).TotalUsers));
    }

    private static IPresence Presence(IServiceProvider services) =>
        services.GetService<IPresence>() ?? new RedisPresence(
            services.GetRequiredService<IConnectionMultiplexer>(),
            services.GetService<RedisChannels>() ?? new RedisChannels(),
            services.GetService<TimeProvider>() ?? TimeProvider.System);

    /// <summary>Body of <c>GET /api/notifications/online-count</c>.</summary>
    public sealed record OnlineCountResponse(int OnlineCount);
}
