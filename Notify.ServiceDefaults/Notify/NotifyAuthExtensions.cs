using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Notify.Core.Auth;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// JWT bearer authentication and the admin policy, configured the same way in every web service. The
/// request-pipeline half of auth lives here, beside the service defaults; the token validation itself
/// (<see cref="NotifyTokens"/>, which needs only Microsoft.IdentityModel) stays in Notify.Core.
/// </summary>
public static class NotifyAuthExtensions
{
    /// <summary>
    /// Binds <see cref="AuthOptions"/> (validated at start: a signing key of at least 32 bytes or an
    /// authority), registers <see cref="NotifyTokens"/>, JWT bearer that also reads <c>?token=</c> on
    /// WebSocket/SSE paths (<see cref="IsStreamingPath"/>) and nowhere else, and the
    /// <see cref="NotifyRoles.AdminPolicy"/> policy.
    /// </summary>
    public static IHostApplicationBuilder AddNotifyAuthentication(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<AuthOptions>()
            .Bind(builder.Configuration.GetSection(AuthOptions.SectionName))
            .ValidateDataAnnotations()
            .Validate(o => !string.IsNullOrEmpty(o.Authority) || System.Text.Encoding.UTF8.GetByteCount(o.SigningKey ?? "") >= 32,
                "Auth:SigningKey must be at least 32 bytes (or set Auth:Authority).")
            .ValidateOnStart();
        builder.Services.AddSingleton<NotifyTokens>();
        builder.Services.AddSingleton(TimeProvider.System);

        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<AuthOptions>, NotifyTokens>((jwt, auth, tokens) =>
            {
                jwt.MapInboundClaims = false;
                jwt.TokenValidationParameters = tokens.ValidationParameters;
                if (tokens.ConfigurationManager is { } keys)
                {
                    // The same key source as every other validation of this process: one cache, one refresh.
                    jwt.Authority = auth.Value.Authority;
                    jwt.MetadataAddress = NotifyTokens.MetadataAddressOf(auth.Value);
                    jwt.RequireHttpsMetadata = jwt.MetadataAddress.StartsWith("https://", StringComparison.OrdinalIgnoreCase);
                    jwt.ConfigurationManager = keys;
                }
                jwt.Events = new JwtBearerEvents
                {
                    OnMessageReceived = context =>
                    {
                        if (string.IsNullOrEmpty(context.Token) && IsStreamingPath(context.Request.Path)
                            && context.Request.Query.TryGetValue("token", out var token))
                        {
                            context.Token = token;
                        }
                        return Task.CompletedTask;
                    },
                };
            });

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(NotifyRoles.AdminPolicy, p => p.RequireAuthenticatedUser().RequireClaim(NotifyRoles.RoleClaim, NotifyRoles.Admin));
        return builder;
    }

    /// <summary>
    /// The paths a browser opens as a WebSocket or EventSource, which cannot send headers: the only ones
    /// where a token may travel in the query string (and so in proxy logs). REST routes never take one.
    /// </summary>
    public static bool IsStreamingPath(PathString path) =>
        path.StartsWithSegments("/api/ws") || path.StartsWithSegments("/api/sse") || path.StartsWithSegments("/api/notifications/stream");
}
