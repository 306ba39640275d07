using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Notify.Core.Auth;

namespace Notify.Api.Auth;

/// <summary>
/// Authenticates service callers by the <c>X-Api-Key</c> header against <c>Auth:ApiKeys</c>. Keys are
/// compared as SHA-256 digests with <see cref="CryptographicOperations.FixedTimeEquals"/> over every
/// configured key, so neither the key's content nor its length leaks through timing. The resulting
/// principal is a service, not a user: it may publish, it has no inbox and no admin role.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    IOptionsMonitor<AuthOptions> authOptions)
    : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, loggerFactory, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(ApiAuth.ApiKeyHeader, out var values))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        var presented = values.Count == 1 ? values[0] : null;
        if (string.IsNullOrEmpty(presented))
        {
            return Task.FromResult(AuthenticateResult.Fail("Malformed API key header."));
        }

        var presentedHash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        string? match = null;
        foreach (var (name, key) in authOptions.CurrentValue.ApiKeys)
        {
            if (string.IsNullOrEmpty(key))
            {
                continue;
            }
            // No early exit: every key is compared, whichever matches.
            if (CryptographicOperations.FixedTimeEquals(presentedHash, SHA256.HashData(Encoding.UTF8.GetBytes(key))))
            {
                match = name;
            }
        }
        if (match is null)
        {
            ApiLog.ApiKeyRejected(Logger);
            return Task.FromResult(AuthenticateResult.Fail("Unknown API key."));
        }

        var identity = new ClaimsIdentity(
            [
                new Claim(NotifyRoles.UserIdClaim, ApiAuth.ServicePrefix + match),
                new Claim(ApiAuth.ApiKeyNameClaim, match),
            ],
            ApiAuth.ApiKeyScheme,
            NotifyRoles.UserIdClaim,
            NotifyRoles.RoleClaim);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
    }

    /// <summary>401 with the challenge of this scheme (RFC 9110 requires one on every 401).</summary>
    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = Challenge;
        return Task.CompletedTask;
    }

    /// <summary>The <c>WWW-Authenticate</c> value of an API-key failure.</summary>
    public const string Challenge = $"ApiKey header=\"{ApiAuth.ApiKeyHeader}\"";
}
