using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Notify.Api.Auth;
using Notify.Core.Notifications;

namespace Notify.Api.OpenApi;

/// <summary>Security schemes, per-operation requirements and request examples of the OpenAPI document.</summary>
internal static class OpenApiTransformers
{
    public static OpenApiOptions AddNotifyTransformers(this OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "Notify API",
                Version = "v1",
                Description = "Create notifications and broadcasts, read and manage the caller's inbox, and change runtime settings. " +
                    "All JSON is snake_case; errors are RFC 7807 problem details.",
            };
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[JwtBearerDefaults.AuthenticationScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "JWT",
                Description = "A Notify JWT: `sub` is the user id, `role: admin` for administrators.",
            };
            document.Components.SecuritySchemes[ApiAuth.ApiKeyScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = ApiAuth.ApiKeyHeader,
                Description = "A service key from `Auth:ApiKeys`; may create notifications and broadcasts.",
            };
            return Task.CompletedTask;
        });

        options.AddSchemaTransformer((schema, context, _) =>
        {
            if (context.JsonTypeInfo.Type == typeof(Notification))
            {
                schema.Examples = [JsonNode.Parse(NotificationExample)!];
            }
            return Task.CompletedTask;
        });

        options.AddOperationTransformer((operation, context, _) =>
        {
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            if (metadata.OfType<IAllowAnonymous>().Any() || !metadata.OfType<IAuthorizeData>().Any())
            {
                return Task.CompletedTask;
            }
            operation.Security ??= [];
            operation.Security.Add(new OpenApiSecurityRequirement
            {
                [new OpenApiSecuritySchemeReference(JwtBearerDefaults.AuthenticationScheme, context.Document)] = [],
            });
            if (metadata.OfType<IAuthorizeData>().Any(a => a.Policy == ApiAuth.PublisherPolicy))
            {
                operation.Security.Add(new OpenApiSecurityRequirement
                {
                    [new OpenApiSecuritySchemeReference(ApiAuth.ApiKeyScheme, context.Document)] = [],
                });
            }
            if (operation.OperationId is { } id && Examples.TryGetValue(id, out var example)
                && operation.RequestBody?.Content?.TryGetValue("application/json", out var media) == true)
            {
                media.Example = JsonNode.Parse(example);
            }
            return Task.CompletedTask;
        });
        return options;
    }

    private const string NotificationExample = """
        { "id": "01M89NW4NS23HJAR3R4ATPVBN5", "user_id": "alice", "type": "analysis", "title": "Analysis finished",
          "content": "000001 is ready", "link": "/stocks/000001", "source": "analysis", "severity": "success",
          "status": "unread", "created_at": "2026-11-25T15:41:02.012Z", "read_at": null, "metadata": { "symbol": "000001" } }
        """;

    private static readonly Dictionary<string, string> Examples = new(StringComparer.Ordinal)
    {
        ["CreateNotification"] = """
            { "user_id": "alice", "type": "analysis", "title": "Analysis finished", "content": "000001 is ready",
              "link": "/stocks/000001", "source": "analysis", "severity": "success", "metadata": { "symbol": "000001" } }
            """,
        ["SendNotification"] = """
            { "target_user": "alice", "notification_type": "order", "content": "Order 42 shipped", "channel": "public:orders", "data": { "order": 42 } }
            """,
        ["Broadcast"] = """
            { "type": "maintenance", "title": "Maintenance", "content": "Back at 02:00 UTC", "channel": "public:news", "level": "warning" }
            """,
        ["IssueDevToken"] = """
            { "user_id": "alice", "roles": ["admin"], "ttl_seconds": 3600 }
            """,
        ["PutSettings"] = """
            { "realtime.heartbeat_interval_seconds": 20 }
            """,
    };
}
