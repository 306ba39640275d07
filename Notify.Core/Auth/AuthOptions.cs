using System.ComponentModel.DataAnnotations;

namespace Notify.Core.Auth;

/// <summary>Token and API-key settings shared by every service, section <c>Auth</c>.</summary>
public sealed class AuthOptions
{
    public const string SectionName = "Auth";

    /// <summary>HS256 signing key (at least 32 bytes of UTF-8). Required unless <see cref="Authority"/> is set.</summary>
    public string? SigningKey { get; set; }

    /// <summary>
    /// OIDC authority whose JWKS signs tokens (RS256 or ES256); when set, <see cref="SigningKey"/> is not used.
    /// Its discovery document is read from <c>{Authority}/.well-known/openid-configuration</c> (or
    /// <see cref="MetadataAddress"/>). Must be https unless it is plain http on purpose (a local provider).
    /// </summary>
    public string? Authority { get; set; }

    /// <summary>The discovery document's address when it is not under <see cref="Authority"/>.</summary>
    public string? MetadataAddress { get; set; }

    /// <summary>
    /// Shortest time between two key refreshes that a token signed with an unknown key triggers (a rotation
    /// is picked up at the first token that needs it, an attacker's made-up key ids cannot make every
    /// request fetch the JWKS). Default 5 min.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan KeyRefreshInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the discovery document and keys are re-read in any case. Default 12 h.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00")]
    public TimeSpan KeyMaxAge { get; set; } = TimeSpan.FromHours(12);

    /// <summary>
    /// Expected <c>iss</c>; not checked when empty. Default <c>notify</c>. With <see cref="Authority"/> the
    /// issuer named by the discovery document is always accepted (and <c>iss</c> always checked); this one besides.
    /// </summary>
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
