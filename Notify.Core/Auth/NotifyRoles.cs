namespace Notify.Core.Auth;

/// <summary>Role names and authorization policy names.</summary>
public static class NotifyRoles
{
    /// <summary>The administrators' role claim value.</summary>
    public const string Admin = "admin";

    /// <summary>The policy that requires <see cref="Admin"/>.</summary>
    public const string AdminPolicy = "admin";

    /// <summary>The claim type of roles in Notify tokens.</summary>
    public const string RoleClaim = "role";

    /// <summary>The claim type of the user id.</summary>
    public const string UserIdClaim = "sub";
}
