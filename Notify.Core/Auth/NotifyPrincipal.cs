using System.Security.Claims;

namespace Notify.Core.Auth;

/// <summary>What a Notify principal carries: its user id and whether it is an admin.</summary>
public static class NotifyPrincipal
{
    /// <summary>The user id (<c>sub</c>) of an authenticated principal.</summary>
    public static string? GetUserId(this ClaimsPrincipal principal) => principal?.FindFirst(NotifyRoles.UserIdClaim)?.Value;

    /// <summary>Whether the principal has the admin role.</summary>
    public static bool IsAdmin(this ClaimsPrincipal principal) => principal?.HasClaim(NotifyRoles.RoleClaim, NotifyRoles.Admin) == true;
}
