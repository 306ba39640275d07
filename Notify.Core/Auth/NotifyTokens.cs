using System.Security.Claims;
using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Notify.Core.Auth;

/// <summary>
/// Issues (dev tokens) and validates Notify JWTs: the one validation every service uses, for REST (ASP.NET
/// Core's JWT bearer handler gets the same parameters and key source), the WebSocket/SSE streams (which
/// validate <c>?token=</c> themselves to answer with protocol close codes) and the Worker's dashboard.
/// HS256 with <c>Auth:SigningKey</c>, or, with <c>Auth:Authority</c>, RS256/ES256 with the authority's
/// JWKS: read from its discovery document, re-read every <c>Auth:KeyMaxAge</c>, and at once (at most every
/// <c>Auth:KeyRefreshInterval</c>) when a token names a key not seen yet, so a rotation is picked up at
/// the first token signed with the new key. <c>exp</c> is required; unsigned tokens never pass.
/// </summary>
public sealed class NotifyTokens
{
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly IOptions<AuthOptions> _options;
    private readonly TimeProvider _time;

    public NotifyTokens(IOptions<AuthOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _time = time;
        ValidationParameters = CreateParameters(options.Value, time);
        if (!string.IsNullOrEmpty(options.Value.Authority))
        {
            ConfigurationManager = CreateConfigurationManager(options.Value);
            ValidationParameters.ConfigurationManager = ConfigurationManager;
        }
    }

    /// <summary>Token validation parameters (in authority mode with the authority's key source attached).</summary>
    public TokenValidationParameters ValidationParameters { get; }

    /// <summary>The authority's discovery document and keys (authority mode only), shared with the JWT bearer handler.</summary>
    public ConfigurationManager<OpenIdConnectConfiguration>? ConfigurationManager { get; }

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
        var key = _options.Value.SigningKey ?? throw new InvalidOperationException("Auth:SigningKey is not configured.");
        var now = _time.GetUtcNow();
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
            Issuer = string.IsNullOrEmpty(_options.Value.Issuer) ? null : _options.Value.Issuer,
            Audience = string.IsNullOrEmpty(_options.Value.Audience) ? null : _options.Value.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key)), SecurityAlgorithms.HmacSha256),
        };
        return (_handler.CreateToken(descriptor), expires);
    }

    /// <summary>The discovery address: <c>Auth:MetadataAddress</c>, else the authority's well-known document.</summary>
    public static string MetadataAddressOf(AuthOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        return !string.IsNullOrEmpty(o.MetadataAddress)
            ? o.MetadataAddress
            : o.Authority!.TrimEnd('/') + "/.well-known/openid-configuration";
    }

    private static ConfigurationManager<OpenIdConnectConfiguration> CreateConfigurationManager(AuthOptions o)
    {
        // A refresh that a token with an unknown key asks for completes before that token is validated
        // again, instead of in the background (the library's default), so the first token signed with a
        // rotated-in key is accepted rather than refused once.
        AppContext.SetSwitch("Switch.Microsoft.IdentityModel.UpdateConfigAsBlocking", true);
        var address = MetadataAddressOf(o);
        var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var retriever = new HttpDocumentRetriever(http) { RequireHttps = address.StartsWith("https://", StringComparison.OrdinalIgnoreCase) };
        return new ConfigurationManager<OpenIdConnectConfiguration>(address, new OpenIdConnectConfigurationRetriever(), retriever)
        {
            RefreshInterval = o.KeyRefreshInterval,
            AutomaticRefreshInterval = o.KeyMaxAge,
            // A key the authority took out of its JWKS is refused as soon as the keys are re-read, not
            // honoured for another hour from an earlier ("last known good") key set.
            UseLastKnownGoodConfiguration = false,
        };
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
            // The issuer of the authority's discovery document is always accepted (and required);
            // Auth:Issuer, when set, is accepted besides it.
            parameters.ValidateIssuer = true;
        }
        return parameters;
    }
}
