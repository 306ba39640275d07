using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Notify.Api.Auth;
using Notify.Api.Notifications;
using Notify.Api.OpenApi;
using Notify.Core.Json;
using Notify.Core.Messaging;
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
        builder.AddNotificationStore();
        builder.AddNotificationOutbox();

        services.AddOptions<ApiOptions>().BindConfiguration(ApiOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<CorsSettings>().BindConfiguration(CorsSettings.SectionName)
            .Validate(o => o.Origins.All(origin => Uri.TryCreate(origin, UriKind.Absolute, out var uri) && uri.AbsolutePath == "/" && !origin.EndsWith('/')), "Cors:Origins must be origins without a path or trailing slash, such as http://localhost:5173.")
            .ValidateOnStart();
        services.AddOptions<ChannelOptions>().BindConfiguration(ChannelOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();

        // Ports and their adapters.
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(new RedisChannels());
        services.TryAddSingleton<IMessageBus, RedisMessageBus>();
        services.AddSingleton<NotificationService>();

        // HTTP surface: snake_case JSON, problem details for every error, auth, limits, CORS, OpenAPI.
        services.ConfigureHttpJsonOptions(o => NotifyJson.Configure(o.SerializerOptions));
        services.AddProblemDetails();
        services.AddExceptionHandler<BadRequestExceptionHandler>();
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

    /// <summary>The middleware, in order: errors, body limit, static web UI, CORS, auth, rate limits.</summary>
    public static WebApplication UseApiPipeline(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.Use(LimitRequestBody);
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
