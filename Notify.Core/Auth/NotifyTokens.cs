using System.Security.Claims;
using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Notify.Core.Auth;

/// <summary>
/// Issues (dev tokens) and validates Notify JWTs. Validation accepts only HS256 with the configured key
/// (or the authority's keys), requires <c>exp</c>, and never accepts unsigned (<c>alg: none</c>) tokens.
/// The same parameters back ASP.NET Core's JWT bearer handler and the WebSocket/SSE endpoints, which
/// validate <c>?token=</c> themselves to answer with protocol close codes.
/// </summary>
public sealed class NotifyTokens(IOptions<AuthOptions> options, TimeProvider time)
{
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };

    /// <summary>Token validation parameters for HS256 mode (authority mode adds the JWKS in the bearer handler).</summary>
    public TokenValidationParameters ValidationParameters { get; } = CreateParameters(options.Value, time);

    /// <summary>Validates a raw token; returns the principal, or null with the reason.</summary>
    public async Task<(ClaimsPrincipal? Principal, DateTimeOffset? ExpiresAt, string? Error)> ValidateAsync(string? token)
    {
        if (string.IsNullOrWhiteSpace(token))
        {
            return (null, null, "token missing");
        }
        var result = await _handler.ValidateTokenAsync(token, ValidationParameters);
        if (!result.IsValid)
        {
            return (null, null, result.Exception?.GetType().Name ?? "invalid token");
        }
        var jwt = (JsonWebToken)result.SecurityToken;
        return (new ClaimsPrincipal(result.ClaimsIdentity), new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero), null);
    }

    /// <summary>Creates a signed HS256 token for <paramref name="userId"/>.</summary>
    public (string Token, DateTimeOffset ExpiresAt) Issue(string userId, IEnumerable<string> roles, TimeSpan lifetime)
    {
        var key = options.Value.SigningKey ?? throw new InvalidOperationException("Auth:SigningKey is not configured.");
        var now = time.GetUtcNow();
        var expires = now + lifetime;
        var claims = new Dictionary<string, object> { [NotifyRoles.UserIdClaim] = userId };
        var roleList = roles.Distinct(StringComparer.Ordinal).ToArray();
        if (roleList.Length > 0)
        {
            claims[NotifyRoles.RoleClaim] = roleList;
        }
        var descriptor = new SecurityTokenDescriptor
        {
            Claims = claims,
            Issuer = string.IsNullOrEmpty(options.Value.Issuer) ? null : options.Value.Issuer,
            Audience = string.IsNullOrEmpty(options.Value.Audience) ? null : options.Value.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key)), SecurityAlgorithms.HmacSha256),
        };
        return (_handler.CreateToken(descriptor), expires);
    }

    /// <summary>Validation parameters from <paramref name="o"/>, clocked by <paramref name="time"/>.</summary>
    public static TokenValidationParameters CreateParameters(AuthOptions o, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(o);
        var parameters = new TokenValidationParameters
        {
            ValidateIssuer = !string.IsNullOrEmpty(o.Issuer),
            ValidIssuer = o.Issuer,
            ValidateAudience = !string.IsNullOrEmpty(o.Audience),
            ValidAudience = o.Audience,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ClockSkew = o.ClockSkew,
            NameClaimType = NotifyRoles.UserIdClaim,
            RoleClaimType = NotifyRoles.RoleClaim,
            LifetimeValidator = (notBefore, expires, _, p) =>
            {
                var now = time.GetUtcNow().UtcDateTime;
                return expires is { } exp && exp + p.ClockSkew > now && (notBefore is not { } nbf || nbf - p.ClockSkew <= now);
            },
        };
        if (string.IsNullOrEmpty(o.Authority))
        {
            parameters.ValidAlgorithms = [SecurityAlgorithms.HmacSha256];
            parameters.IssuerSigningKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(o.SigningKey ?? ""));
            parameters.ValidateIssuerSigningKey = true;
        }
        else
        {
            parameters.ValidAlgorithms = [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.EcdsaSha256];
        }
        return parameters;
    }
}
