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
            .WithDescription("Filters by `status` (unread|read) and `type`; `limit` 1..100 (default 20); pass the previous page's `next_cursor` as `before` for the next page. `next_cursor` is null on the last page.");
        api.MapGet("/unread_count", UnreadCountAsync)
            .WithName("GetUnreadCount")
            .WithSummary("How many of the caller's notifications are unread");
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
        api.MapDelete("/{id}", DeleteAsync)
            .WithName("DeleteNotification")
            .WithSummary("Deletes one notification")
            .WithDescription("Publishes a `deleted` frame to the caller's other connections.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    public static async Task<Results<Ok<NotificationListResponse>, ValidationProblem>> ListAsync(
        string? status, string? type, int? limit, string? before,
        ClaimsPrincipal user, INotificationStore store, CancellationToken cancellationToken)
    {
        var errors = NotificationValidator.ValidateQuery(status, type, limit, before, out var parsedStatus);
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

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        string id, ClaimsPrincipal user, NotificationService notifications, CancellationToken cancellationToken) =>
        NotificationValidator.IsId(id) && await notifications.DeleteAsync(user.GetUserId()!, id, cancellationToken)
            ? TypedResults.NoContent()
            : Problems.NotFound();
}
