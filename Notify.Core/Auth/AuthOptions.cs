using System.ComponentModel.DataAnnotations;

namespace Notify.Core.Auth;

/// <summary>Token and API-key settings shared by every service, section <c>Auth</c>.</summary>
public sealed class AuthOptions
{
    public const string SectionName = "Auth";

    /// <summary>HS256 signing key (at least 32 bytes of UTF-8). Required unless <see cref="Authority"/> is set.</summary>
    public string? SigningKey { get; set; }

    /// <summary>OIDC authority whose JWKS signs tokens; when set, <see cref="SigningKey"/> is not used.</summary>
    public string? Authority { get; set; }

    /// <summary>Expected <c>iss</c>; not checked when empty. Default <c>notify</c>.</summary>
    public string? Issuer { get; set; } = "notify";

    /// <summary>Expected <c>aud</c>; not checked when empty. Default <c>notify</c>.</summary>
    public string? Audience { get; set; } = "notify";

    /// <summary>Allowed clock skew when checking <c>exp</c>/<c>nbf</c>. Default 30 s.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary><c>POST /api/auth/dev-token</c> exists only when true (local runs and tests). Default false.</summary>
    public bool EnableDevTokens { get; set; }

    /// <summary>Longest lifetime a dev token may ask for. Default 24 h.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00")]
    public TimeSpan DevTokenMaxLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Service API keys accepted in <c>X-Api-Key</c>: name → key.</summary>
    public Dictionary<string, string> ApiKeys { get; set; } = [];
}
