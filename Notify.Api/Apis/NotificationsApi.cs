using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Notify.Api.Auth;
using Notify.Api.Notifications;
using Notify.Core.Auth;
using Notify.Core.Notifications;

namespace Notify.Api.Apis;

/// <summary>The caller's own inbox. Every id is looked up within the caller's notifications: another user's id is 404.</summary>
internal static class NotificationsApi
{
    public static RouteGroupBuilder MapNotificationsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/notifications")
            .WithTags("Inbox")
            .RequireAuthorization(ApiAuth.UserPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized);

        api.MapGet("/", ListAsync)
            .WithName("ListNotifications")
            .WithSummary("The caller's notifications, newest first")
            .WithDescription("Filters by `status` (unread|read) and `type`; `limit` 1..100 (default 20); pass the previous page's `next_cursor` as `before` for the next page. `next_cursor` is null on the last page. " +
                "Without `archived` or `snoozed` the list holds neither archived nor snoozed notifications; `archived=true` lists the archived ones, `snoozed=true` the snoozed ones; `unseen=true` only those not seen yet.");
        api.MapGet("/unread_count", UnreadCountAsync)
            .WithName("GetUnreadCount")
            .WithSummary("How many of the caller's notifications are unread");
        api.MapGet("/unseen_count", UnseenCountAsync)
            .WithName("GetUnseenCount")
            .WithSummary("How many notifications of the caller's default list are unseen (the badge)");
        api.MapPost("/bulk", BulkAsync)
            .WithName("BulkAction")
            .WithSummary("Marks read, marks seen, archives or deletes the caller's notifications matching a filter")
            .WithDescription($"Body: `action` (read|seen|archive|delete) and optional `type`, `before` (created before this time), `status` (read|unread). Archived notifications are left alone except by delete. Works in batches of {NotificationService.BulkBatchSize}, at most {NotificationService.BulkMaxPerRequest} per request (`more: true` when more matched: send it again). Publishes a `bulk` frame.")
            .ProducesValidationProblem();
        api.MapPost("/read_all", ReadAllAsync)
            .WithName("MarkAllRead")
            .WithSummary("Marks every unread notification read")
            .WithDescription("Publishes a `read_all` frame to the caller's other connections when anything changed.");
        api.MapGet("/{id}", GetAsync)
            .WithName("GetNotification")
            .WithSummary("One of the caller's notifications")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/{id}/read", ReadAsync)
            .WithName("MarkRead")
            .WithSummary("Marks one notification read (idempotent)")
            .WithDescription("Publishes a `read` frame to the caller's other connections.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/{id}/seen", SeenAsync)
            .WithName("MarkSeen")
            .WithSummary("Marks one notification seen (idempotent); publishes a `seen` frame")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/{id}/archive", ArchiveAsync)
            .WithName("Archive")
            .WithSummary("Archives one notification (idempotent); publishes an `archived` frame")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/{id}/unarchive", UnarchiveAsync)
            .WithName("Unarchive")
            .WithSummary("Brings an archived notification back to the list; publishes an `unarchived` frame")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/{id}/snooze", SnoozeAsync)
            .WithName("Snooze")
            .WithSummary("Snoozes one notification until a time")
            .WithDescription("Body `{\"until\": time}`: after now and at most 30 days ahead. The notification leaves the list; at that time the Worker brings it back unread and pushes it live once. Publishes a `snoozed` frame.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapDelete("/{id}/snooze", UnsnoozeAsync)
            .WithName("Unsnooze")
            .WithSummary("Clears a snooze: the notification is back in the list at once, unchanged otherwise")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapDelete("/{id}", DeleteAsync)
            .WithName("DeleteNotification")
            .WithSummary("Deletes one notification")
            .WithDescription("Publishes a `deleted` frame to the caller's other connections.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    public static async Task<Results<Ok<NotificationListResponse>, ValidationProblem>> ListAsync(
        string? status, string? type, int? limit, string? before, string? archived, string? snoozed, string? unseen,
        ClaimsPrincipal user, INotificationStore store, CancellationToken cancellationToken)
    {
        var errors = NotificationValidator.ValidateQuery(status, type, limit, before, out var parsedStatus);
        var isArchived = Flag(errors, "archived", archived);
        var isSnoozed = Flag(errors, "snoozed", snoozed);
        var isUnseen = Flag(errors, "unseen", unseen);
        if (isArchived && isSnoozed)
        {
            errors["snoozed"] = ["cannot be combined with archived=true."];
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var page = await store.ListAsync(
            user.GetUserId()!,
            new NotificationQuery
            {
                Status = parsedStatus,
                Type = string.IsNullOrEmpty(type) ? null : type,
                Limit = limit ?? 20,
                Before = string.IsNullOrEmpty(before) ? null : before,
                View = isArchived ? InboxView.Archived : isSnoozed ? InboxView.Snoozed : InboxView.Default,
                UnseenOnly = isUnseen,
            },
            cancellationToken);
        return TypedResults.Ok(new NotificationListResponse(page.Items, page.NextCursor));
    }

    public static async Task<Ok<UnreadCountResponse>> UnreadCountAsync(ClaimsPrincipal user, INotificationStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok(new UnreadCountResponse(await store.CountUnreadAsync(user.GetUserId()!, cancellationToken)));

    public static async Task<Results<Ok<Notification>, ProblemHttpResult>> GetAsync(
        string id, ClaimsPrincipal user, INotificationStore store, CancellationToken cancellationToken)
    {
        var notification = NotificationValidator.IsId(id) ? await store.GetAsync(user.GetUserId()!, id, cancellationToken) : null;
        return notification is null ? Problems.NotFound() : TypedResults.Ok(notification);
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> ReadAsync(
        string id, ClaimsPrincipal user, NotificationService notifications, CancellationToken cancellationToken) =>
        NotificationValidator.IsId(id) && await notifications.MarkReadAsync(user.GetUserId()!, id, cancellationToken)
            ? TypedResults.NoContent()
            : Problems.NotFound();

    public static async Task<Ok<ReadAllResponse>> ReadAllAsync(ClaimsPrincipal user, NotificationService notifications, CancellationToken cancellationToken) =>
        TypedResults.Ok(new ReadAllResponse(await notifications.MarkAllReadAsync(user.GetUserId()!, cancellationToken)));

    public static async Task<Ok<UnreadCountResponse>> UnseenCountAsync(ClaimsPrincipal user, INotificationStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok(new UnreadCountResponse(await store.CountUnseenAsync(user.GetUserId()!, cancellationToken)));

    public static async Task<Results<NoContent, ProblemHttpResult>> SeenAsync(
        string id, ClaimsPrincipal user, NotificationService notifications, CancellationToken cancellationToken) =>
        NotificationValidator.IsId(id) && await notifications.MarkSeenAsync(user.GetUserId()!, id, cancellationToken)
            ? TypedResults.NoContent()
            : Problems.NotFound();

    public static Task<Results<NoContent, ProblemHttpResult>> ArchiveAsync(
        string id, ClaimsPrincipal user, NotificationService notifications, CancellationToken cancellationToken) =>
        SetArchivedAsync(id, archived: true, user, notifications, cancellationToken);

    public static Task<Results<NoContent, ProblemHttpResult>> UnarchiveAsync(
        string id, ClaimsPrincipal user, NotificationService notifications, CancellationToken cancellationToken) =>
        SetArchivedAsync(id, archived: false, user, notifications, cancellationToken);

    private static async Task<Results<NoContent, ProblemHttpResult>> SetArchivedAsync(
        string id, bool archived, ClaimsPrincipal user, NotificationService notifications, CancellationToken cancellationToken) =>
        NotificationValidator.IsId(id) && await notifications.SetArchivedAsync(user.GetUserId()!, id, archived, cancellationToken)
            ? TypedResults.NoContent()
            : Problems.NotFound();

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> SnoozeAsync(
        string id, SnoozeRequest request, ClaimsPrincipal user, NotificationService notifications, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (request.Until is not { } until)
        {
            return Problems.Field("until", "is required.");
        }
        if (until <= now)
        {
            return Problems.Field("until", "must be in the future.");
        }
        if (until > now + NotificationLimits.MaxSnooze)
        {
            return Problems.Field("until", $"must be at most {NotificationLimits.MaxSnooze.TotalDays} days ahead.");
        }
        return NotificationValidator.IsId(id) && await notifications.SnoozeAsync(user.GetUserId()!, id, until, cancellationToken)
            ? TypedResults.NoContent()
            : Problems.NotFound();
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> UnsnoozeAsync(
        string id, ClaimsPrincipal user, NotificationService notifications, CancellationToken cancellationToken) =>
        NotificationValidator.IsId(id) && await notifications.SnoozeAsync(user.GetUserId()!, id, null, cancellationToken)
            ? TypedResults.NoContent()
            : Problems.NotFound();

    public static async Task<Results<Ok<BulkResponse>, ValidationProblem>> BulkAsync(
        BulkRequest request, ClaimsPrincipal user, NotificationService notifications, CancellationToken cancellationToken)
    {
        var errors = NotificationValidator.ValidateQuery(request.Status, request.Type, null, null, out var status);
        BulkAction? action = request.Action switch
        {
            "read" => BulkAction.Read,
            "seen" => BulkAction.Seen,
            "archive" => BulkAction.Archive,
            "delete" => BulkAction.Delete,
            _ => null,
        };
        if (action is null)
        {
            errors["action"] = ["must be read, seen, archive or delete."];
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var filter = new BulkFilter { Type = string.IsNullOrEmpty(request.Type) ? null : request.Type, Before = request.Before, Status = status };
        return TypedResults.Ok(await notifications.BulkAsync(user.GetUserId()!, filter, action!.Value, cancellationToken));
    }

    private static bool Flag(Dictionary<string, string[]> errors, string name, string? value)
    {
        switch (value)
        {
            case null or "" or "false":
                return false;
            case "true":
                return true;
            default:
                errors[name] = ["must be true or false."];
                return false;
        }
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        string id, ClaimsPrincipal user, NotificationService notifications, CancellationToken cancellationToken) =>
        NotificationValidator.IsId(id) && await notifications.DeleteAsync(user.GetUserId()!, id, cancellationToken)
            ? TypedResults.NoContent()
            : Problems.NotFound();
}
