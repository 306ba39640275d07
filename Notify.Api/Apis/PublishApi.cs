using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Notify.Api.Auth;
using Notify.Api.Notifications;
using Notify.Core.Json;
using Notify.Core.Messaging;
using Notify.Core.Notifications;

namespace Notify.Api.Apis;

/// <summary>Creating notifications and broadcasts: admins and services (<c>X-Api-Key</c>), rate limited per caller.</summary>
internal static class PublishApi
{
    /// <summary>The header that makes a create safe to retry.</summary>
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>Set on the answer to a retry that found the first result.</summary>
    public const string ReplayedHeader = "Idempotent-Replayed";

    /// <summary>The channel name a broadcast without a channel is published under.</summary>
    public const string BroadcastChannelName = "broadcast";

    public static RouteGroupBuilder MapPublishApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/notifications")
            .WithTags("Publishing")
            .RequireAuthorization(ApiAuth.PublisherPolicy)
            .RequireRateLimiting(RateLimits.CreatesPolicy)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        api.MapPost("/", CreateAsync)
            .WithName("CreateNotification")
            .WithSummary("Creates a notification for a user")
            .WithDescription("Stored, then published to the user's connections as a `notification` frame. 201 as soon as it is stored: while Redis is unreachable it waits in the store's outbox and is published when Redis is back. The answer's `id` is the stored one. The user's preference for the type decides: `off` stores and publishes nothing and answers 201 `{\"suppressed\": true, \"user_id\", \"type\"}`; `inbox` (or `live` inside quiet hours) stores it and publishes an `unread_count` frame instead. With an `Idempotency-Key` header (scoped to the caller: API key or token subject) a retry of the same request returns the first result (and `Idempotent-Replayed: true`) and creates nothing; the same key with a different request is 422.")
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        api.MapPost("/send", SendAsync)
            .WithName("SendNotification")
            .WithSummary("Creates a notification (seed-compatible form)")
            .WithDescription("`target_user` → `user_id`, `notification_type` → `type` and `title`, `data` → `metadata`, `channel` → `metadata.channel`. Same semantics as POST /api/notifications.")
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        api.MapPost("/broadcast", BroadcastAsync)
            .WithName("Broadcast")
            .WithSummary("Publishes a message to a channel or to every connected user")
            .WithDescription("Kept in the channel's bounded history for resume (`since`). Answers the stream offset of the publication. Users whose preference for the payload's `type` (or for `channel:<name>`) is `off` do not receive it, live or replayed. 503 when Redis is unreachable (nothing was published).")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return api;
    }

    public static async Task<Results<Created<Notification>, Created<SuppressedResponse>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        CreateNotificationRequest request,
        [FromHeader(Name = IdempotencyKeyHeader)] string? idempotencyKey,
        ClaimsPrincipal caller, HttpResponse response, NotificationService notifications, CancellationToken cancellationToken)
    {
        var errors = NotificationValidator.Validate(request);
        CheckIdempotencyKey(errors, idempotencyKey);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var draft = new NewNotification(
            request.UserId!, request.Type!, request.Title!, request.Content, request.Link, request.Source,
            NotificationValidator.ParseSeverity(request.Severity), request.Metadata);
        return await CreateCoreAsync(draft, idempotencyKey, caller, response, notifications, cancellationToken);
    }

    public static async Task<Results<Created<Notification>, Created<SuppressedResponse>, ValidationProblem, ProblemHttpResult>> SendAsync(
        SendNotificationRequest request,
        [FromHeader(Name = IdempotencyKeyHeader)] string? idempotencyKey,
        ClaimsPrincipal caller, HttpResponse response, NotificationService notifications, CancellationToken cancellationToken)
    {
        var errors = NotificationValidator.Validate(request);
        CheckIdempotencyKey(errors, idempotencyKey);
        var metadata = request.Data;
        if (errors.Count == 0 && request.Channel is { } channel)
        {
            metadata = WithChannel(request.Data, channel);
            if (JsonSerializer.SerializeToUtf8Bytes(metadata, NotifyJson.Options).Length > NotificationLimits.MetadataMaxBytes)
            {
                errors["data"] = [$"must be at most {NotificationLimits.MetadataMaxBytes} bytes serialized (with the channel)."];
            }
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var draft = new NewNotification(
            request.TargetUser!, request.NotificationType!, request.NotificationType!, request.Content, null, null,
            NotificationSeverity.Info, metadata);
        return await CreateCoreAsync(draft, idempotencyKey, caller, response, notifications, cancellationToken);
    }

    public static async Task<Results<Accepted<BroadcastResponse>, ValidationProblem>> BroadcastAsync(
        BroadcastRequest request, IMessageBus bus, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var errors = NotificationValidator.Validate(request);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var payload = JsonSerializer.SerializeToElement(
            new BroadcastPayload(request.Type!, request.Title ?? "", request.Content!, request.Level ?? "info"), NotifyJson.Options);
        var (topic, channelName) = request.Channel is { } channel
            ? (BusTopic.Channel(channel), channel)
            : (BusTopic.Broadcast, BroadcastChannelName);
        // A broadcast lives only in Redis: when it cannot be published nothing was kept, and
        // UnavailableExceptionHandler answers 503 with Retry-After so that the caller sends it again.
        var publication = await bus.PublishToChannelAsync(topic, channelName, payload, cancellationToken);
        ApiLog.Broadcast(loggers.CreateLogger(typeof(PublishApi)), publication.Id, channelName);
        return TypedResults.Accepted((string?)null, new BroadcastResponse(publication.Id, channelName, publication.CreatedAt));
    }

    private static async Task<Results<Created<Notification>, Created<SuppressedResponse>, ValidationProblem, ProblemHttpResult>> CreateCoreAsync(
        NewNotification draft, string? idempotencyKey, ClaimsPrincipal caller, HttpResponse response, NotificationService notifications, CancellationToken cancellationToken)
    {
        var key = string.IsNullOrEmpty(idempotencyKey) ? null : NotificationService.Key(caller.PublisherKey(), idempotencyKey, draft);
        var outcome = await notifications.CreateAsync(draft, key, cancellationToken);
        if (outcome.Result is not { } result)
        {
            return TypedResults.Created((string?)null, new SuppressedResponse(true, draft.UserId, draft.Type));
        }
        if (result.RequestMismatch)
        {
            // Nothing of the first request is returned: the key is the caller's, its notification is not the answer.
            const string message = "was already used by this caller for a different request; send a new key for a new notification.";
            return TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "Unprocessable Entity",
                detail: $"{IdempotencyKeyHeader} {message}",
                extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { [IdempotencyKeyHeader] = [message] } });
        }
        if (!result.Created)
        {
            response.Headers[ReplayedHeader] = "true";
        }
        return TypedResults.Created($"/api/notifications/{result.Notification.Id}", result.Notification);
    }

    private static void CheckIdempotencyKey(Dictionary<string, string[]> errors, string? key)
    {
        if (key is not null && !NotificationValidator.IsIdempotencyKey(key))
        {
            errors[IdempotencyKeyHeader] = [$"must be 1 to {NotificationValidator.IdempotencyKeyMaxLength} printable ASCII characters."];
        }
    }

    private static JsonElement WithChannel(JsonElement? data, string channel)
    {
        var node = data is { ValueKind: JsonValueKind.Object } d
            ? System.Text.Json.Nodes.JsonObject.Create(d) ?? []
            : [];
        node["channel"] = channel;
        return JsonSerializer.SerializeToElement(node, NotifyJson.Options);
    }
}
