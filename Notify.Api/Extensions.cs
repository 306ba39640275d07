using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Notify.Api.Auth;
using Notify.Api.Notifications;
using Notify.Api.OpenApi;
using Notify.Core.Http;
using Notify.Core.Auth;
using Notify.Core.Json;
using Notify.Core.Messaging;
using Notify.Core.Presence;
using Notify.Core.Push;
using Notify.Core.Storage;
using Scalar.AspNetCore;
using Notify.Api.Apis;

namespace Notify.Api;

internal static class Extensions
{
    private const string CorsPolicy = "web";

    /// <summary>Everything the Api service needs besides the service defaults.</summary>
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        builder.AddRedisClient("redis");
        builder.Services.AddRedisClusterCheck();
        builder.AddNotifyStore();
        builder.AddPushSubscriptions();
        builder.AddNotificationOutbox();

        services.AddOptions<ApiOptions>().BindConfiguration(ApiOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<CorsSettings>().BindConfiguration(CorsSettings.SectionName)
            .Validate(o => o.Origins.All(CorsOrigins.IsOrigin), CorsOrigins.Rule)
            .ValidateOnStart();
        services.AddOptions<ChannelOptions>().BindConfiguration(ChannelOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();

        // Ports and their adapters.
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(new RedisChannels());
        services.TryAddSingleton<IPresence, RedisPresence>();
        services.TryAddSingleton<PresenceStatsCache>();
        services.TryAddSingleton<IMessageBus, RedisMessageBus>();
        services.AddSingleton<NotificationService>();

        // HTTP surface: snake_case JSON, problem details for every error, auth, limits, CORS, OpenAPI.
        services.ConfigureHttpJsonOptions(o => NotifyJson.Configure(o.SerializerOptions));
        // PROTOCOL.md: snake_case everywhere, so the trace id of every problem is trace_id, whatever the
        // framework's own default spelling.
        services.AddProblemDetails(o => o.CustomizeProblemDetails = UseSnakeCaseTraceId);
        services.AddExceptionHandler<BadRequestExceptionHandler>();
        services.AddExceptionHandler<UnavailableExceptionHandler>();
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.AddApiAuthentication();
        services.AddCreateRateLimits();
        services.AddCors();
        services.AddOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>()
            .Configure<IOptions<CorsSettings>>((cors, settings) => cors.AddPolicy(CorsPolicy, p => p
                .WithOrigins(settings.Value.Origins)
                .AllowAnyHeader()
                .AllowAnyMethod()
                .WithExposedHeaders("Location", "Retry-After", Apis.PublishApi.ReplayedHeader)));
        services.AddOpenApi(o => o.AddNotifyTransformers());

        // After the Api's own authentication: it adds the Notify JWT scheme only when none is registered yet.
        builder.AddTasksApi();
    }

    /// <summary>
    /// Settings the Api refuses to run with, checked before anything starts: dev tokens outside the
    /// Development environment (anyone could sign in as anyone, admin included). Writes one line naming
    /// the key and returns true.
    /// </summary>
    public static bool RefusesToStart(this IHostApplicationBuilder builder)
    {
        const string key = $"{AuthOptions.SectionName}:{nameof(AuthOptions.EnableDevTokens)}";
        if (builder.Configuration.GetValue<bool>(key) && !builder.Environment.IsDevelopment())
        {
            Console.Error.WriteLine($"Refusing to start: {key} is true in the '{builder.Environment.EnvironmentName}' environment; dev tokens let anyone sign in as any user and are allowed only in Development.");
            return true;
        }
        return false;
    }

    private static void UseSnakeCaseTraceId(ProblemDetailsContext context)
    {
        var extensions = context.ProblemDetails.Extensions;
        extensions.Remove("traceId");
        extensions["trace_id"] = System.Diagnostics.Activity.Current?.Id ?? context.HttpContext.TraceIdentifier;
    }

    /// <summary>The middleware, in order: errors, body limit, no tokens in REST URLs, static web UI, CORS, auth, rate limits.</summary>
    public static WebApplication UseApiPipeline(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.Use(LimitRequestBody);
        app.Use(RefuseTokenInQuery);
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.UseRouting();
        app.UseCors(CorsPolicy);
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        return app;
    }

    /// <summary>The OpenAPI document at <c>/openapi/v1.json</c>; the Scalar reference at <c>/scalar</c> in Development.</summary>
    public static WebApplication MapApiReference(this WebApplication app)
    {
        app.MapOpenApi().AllowAnonymous();
        if (app.Environment.IsDevelopment())
        {
            app.MapScalarApiReference().AllowAnonymous();
        }
        return app;
    }

    // Tokens in URLs end up in proxy and access logs. The Api has no stream a browser opens without headers,
    // so a ?token= here is a mistake to report, not a credential to use (or to ignore while it leaks).
    private static async Task RefuseTokenInQuery(HttpContext context, RequestDelegate next)
    {
        if (!context.Request.Query.ContainsKey("token") || !context.Request.Path.StartsWithSegments("/api")
            || NotifyAuthExtensions.IsStreamingPath(context.Request.Path))
        {
            await next(context);
            return;
        }
        const string message = "tokens are not accepted in the query string of REST routes (they end up in logs); send Authorization: Bearer <token>.";
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new HttpValidationProblemDetails(new Dictionary<string, string[]> { ["token"] = [message] })
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "Bad Request",
                Detail = "The token " + message,
            },
        });
    }

    // A declared length over the limit is refused before the body is read; a chunked body is cut off by
    // the server at the same limit while the endpoint reads it (and answered 413 by BadRequestExceptionHandler).
    private static async Task LimitRequestBody(HttpContext context, RequestDelegate next)
    {
        var limit = context.RequestServices.GetRequiredService<IOptions<ApiOptions>>().Value.MaxRequestBodyBytes;
        if (context.Request.ContentLength > limit)
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails =
                {
                    Status = StatusCodes.Status413PayloadTooLarge,
                    Title = "Payload Too Large",
                    Detail = $"The request body is larger than {limit} bytes.",
                },
            });
            return;
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = limit;
        }
        await next(context);
    }
}
