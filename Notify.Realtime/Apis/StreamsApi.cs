using Notify.Realtime.Connections;
using Notify.Realtime.Transports;

namespace Notify.Realtime.Apis;

/// <summary>The WebSocket and SSE endpoints (PROTOCOL.md §3–§5). Each authenticates from <c>?token=</c> or the header itself.</summary>
internal static class StreamsApi
{
    /// <summary>The WebSocket paths (<see cref="Transports.DirectWebSocketUpgrade"/> recognises the same ones on a connection).</summary>
    public const string WebSocketGroup = "/api/ws";
    public const string NotificationsSocketPath = "/notifications";
    public const string AdminSocketPath = "/admin";
    public const string TasksSocketPath = "/tasks/";

    public static IEndpointRouteBuilder MapStreamsApi(this IEndpointRouteBuilder app)
    {
        var ws = app.MapGroup(WebSocketGroup).AllowAnonymous();
        ws.Map(NotificationsSocketPath, NotificationsSocket);
        ws.Map(AdminSocketPath, AdminSocket);
        ws.Map(TasksSocketPath + "{task_id}", TaskSocket);

        var sse = app.MapGroup("/api/sse").AllowAnonymous();
        sse.MapGet("/notifications", NotificationsEvents);
        sse.MapGet("/tasks/{task_id}", TaskEvents);
        sse.MapGet("/batches/{batch_id}", BatchEvents);
        app.MapGet("/api/notifications/stream", NotificationsEvents).AllowAnonymous();
        return app;
    }

    private static Task NotificationsSocket(HttpContext context, WebSocketTransport transport) =>
        transport.RunAsync(context, StreamKind.Notifications, null);

    private static Task AdminSocket(HttpContext context, WebSocketTransport transport) =>
        transport.RunAsync(context, StreamKind.Admin, null);

    private static Task TaskSocket(HttpContext context, string task_id, WebSocketTransport transport) =>
        transport.RunAsync(context, StreamKind.Task, task_id);

    private static Task NotificationsEvents(HttpContext context, SseTransport transport) =>
        transport.RunAsync(context, StreamKind.Notifications, null);

    private static Task TaskEvents(HttpContext context, string task_id, SseTransport transport) =>
        transport.RunAsync(context, StreamKind.Task, task_id);

    private static Task BatchEvents(HttpContext context, string batch_id, SseTransport transport) =>
        transport.RunAsync(context, StreamKind.Batch, batch_id);
}
