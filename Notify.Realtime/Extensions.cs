using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Notify.Core.Auth;
using Notify.Core.Http;
using Notify.Core.Json;
using Notify.Core.Messaging;
using Notify.Core.Presence;
using Notify.Core.Storage;
using Notify.Core.Tasks;
using Notify.Realtime.Connections;
using Notify.Realtime.Options;
using Notify.Realtime.Sessions;
using Notify.Realtime.Streams;
using Notify.Realtime.Transports;

namespace Notify.Realtime;

internal static class Extensions
{
    /// <summary>The CORS policy for the configured web origins (<c>Cors:Origins</c>).</summary>
    public const string CorsPolicy = "web";

    /// <summary>Everything the Realtime service needs besides the service defaults.</summary>
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        // Tells the subscription recovery of a reconnect before the new connection re-subscribes.
        var subscriptionConnections = new SubscriptionConnections();
        builder.Services.AddSingleton(subscriptionConnections);
        builder.AddRedisClient("redis", configureOptions: options => options.Tunnel = subscriptionConnections);
        builder.Services.AddRedisClusterCheck();
        builder.AddNotifyAuthentication();
        // Stream endpoints are anonymous in routing and validate their token themselves; they live for
        // hours, and a principal the JWT handler built for them too would stay referenced by the request
        // (claims, parsed token: about 2 KiB per connection). So the handler skips them.
        builder.Services.PostConfigure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, jwt =>
        {
            var received = jwt.Events.OnMessageReceived;
            jwt.Events.OnMessageReceived = context =>
            {
                if (context.HttpContext.GetEndpoint()?.Metadata.GetMetadata<IAllowAnonymous>() is not null)
                {
                    context.NoResult();
                    return Task.CompletedTask;
                }
                return received(context);
            };
        });
        builder.AddNotifyStore();
        builder.AddTaskQueue();

        builder.Services.AddOptions<RealtimeOptions>()
            .Bind(builder.Configuration.GetSection(RealtimeOptions.SectionName))
            .ValidateDataAnnotations()
            .Validate(o => o.PresenceRefreshInterval < o.PresenceTtl, "Realtime:PresenceRefreshInterval must be shorter than Realtime:PresenceTtl.")
            .ValidateOnStart();
        builder.Services.AddOptions<CompressionOptions>()
            .Bind(builder.Configuration.GetSection(CompressionOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddOptions<SseOptions>()
            .Bind(builder.Configuration.GetSection(SseOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddOptions<ChannelOptions>()
            .Bind(builder.Configuration.GetSection(ChannelOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        // Connections close within the shutdown timeout; the host must not wait longer than 10 s in total.
        builder.Services.AddOptions<HostOptions>().Configure(o =>
            o.ShutdownTimeout = builder.Configuration.GetSection(RealtimeOptions.SectionName).Get<RealtimeOptions>()?.ShutdownTimeout ?? new RealtimeOptions().ShutdownTimeout);
        builder.Services.ConfigureHttpJsonOptions(o => NotifyJson.Configure(o.SerializerOptions));
        // The web UI is served by the Api on another origin; its SSE streams and stats calls need CORS (WebSocket does not).
        var origins = builder.Configuration.GetSection("Cors:Origins").Get<string[]>() ?? [];
        if (origins.FirstOrDefault(o => !CorsOrigins.IsOrigin(o)) is { } badOrigin)
        {
            throw new InvalidOperationException($"{CorsOrigins.Rule} Got '{badOrigin}'.");
        }
        builder.Services.AddCors(o => o.AddPolicy(CorsPolicy, p => p.WithOrigins(origins).AllowAnyHeader().AllowAnyMethod()));
        // The request line carries ?token=; it must never reach the logs.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning);

        builder.Services.TryAddSingleton(new RedisChannels());
        builder.Services.TryAddSingleton<IMessageBus, RedisMessageBus>();
        builder.Services.AddSingleton<IPresence, RedisPresence>();
        builder.Services.AddSingleton<Preferences.PreferenceFilters>();
        builder.Services.AddSingleton<PresenceStatsCache>();
        builder.Services.AddSingleton<StreamSettings>();
        builder.Services.AddSingleton<InstanceIdentity>();
        builder.Services.AddSingleton<ConnectionRegistry>();
        builder.Services.AddSingleton<NotificationReplay>();
        builder.Services.AddSingleton<ChannelSubscriptions>();
        builder.Services.AddSingleton<InboxChanges>();
        builder.Services.AddSingleton<ProgressStreams>();
        builder.Services.AddSingleton<ClientFrameDispatcher>();
        builder.Services.AddSingleton<ConnectionSession>();
        builder.Services.AddSingleton<WebSocketTransport>();
        builder.Services.AddSingleton<SseTransport>();
        // WebSocket streams upgrade on the connection itself (Realtime:DirectUpgrade), before HTTP sees them.
        builder.Services.Configure<KestrelServerOptions>(kestrel => kestrel.ConfigureEndpointDefaults(DirectWebSocketUpgrade.UseOn));
        builder.Services.AddHostedService<ConnectionMonitor>();
        builder.Services.AddHostedService<PresenceReporter>();
        builder.Services.AddHostedService<SubscriptionRecovery>();
    }
}
