using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Notify.Core.Auth;
using Notify.Core.Json;
using Notify.Core.Tasks;

using static Notify.Api.Apis.Problems;
using static Notify.Api.Apis.TaskProblems;

namespace Notify.Api.Apis;

/// <summary>
/// Tasks and batches (seed 001's queue, PROTOCOL.md §6): create, read, cancel, queue stats. A user
/// sees and cancels only their own tasks (someone else's id is 404); admins see and cancel every task.
/// Progress streams live in the Realtime service (<c>/api/ws/tasks/{id}</c>, <c>/api/sse/tasks/{id}</c>,
/// <c>/api/sse/batches/{id}</c>); these routes answer JSON only.
/// </summary>
internal static class TasksApi
{
    /// <summary>Registers the task queue (and, for a host without its own authentication, the Notify JWT scheme).</summary>
    public static IHostApplicationBuilder AddTasksApi(this IHostApplicationBuilder builder)
    {
        if (!builder.Services.Any(s => s.ServiceType == typeof(NotifyTokens)))
        {
            builder.AddNotifyAuthentication();
        }
        return builder.AddTaskQueue();
    }

    public static IEndpointRouteBuilder MapTasksApi(this IEndpointRouteBuilder app)
    {
        var users = app.MapGroup("/api")
            .WithTags("Tasks")
            .RequireAuthorization(p => p
                .AddAuthenticationSchemes(JwtBearerDefaults.AuthenticationScheme)
                .RequireAuthenticatedUser()
                .RequireClaim(NotifyRoles.UserIdClaim))
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        users.MapPost("/tasks", CreateTaskAsync)
            .WithName("CreateTask")
            .WithSummary("Queues a task: 202 with its id")
            .WithDescription("`kind` must be an enabled kind (`Queue:Kinds`, plus `demo` and `noop` when `Queue:EnableDemoKinds`); `params` (any JSON) at most `Queue:MaxParamsBytes` serialized (413 beyond). 429 with `Retry-After` beyond `Api:UserTaskCreatesPerWindow` creates per window or when the caller has `Queue:MaxQueuedPerUser` tasks waiting.")
            .RequireRateLimiting(RateLimits.TaskCreatesPolicy)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        users.MapPost("/batches", CreateBatchAsync)
            .WithName("CreateBatch")
            .WithSummary("Queues one task per item as a batch: 202 with the batch id and task ids")
            .WithDescription("1 to `Queue:MaxBatchItems` items (413 beyond), each at most `Queue:MaxParamsBytes` serialized (413 beyond); all or none are queued. Rate limited and capped like `POST /api/tasks`.")
            .RequireRateLimiting(RateLimits.TaskCreatesPolicy)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        users.MapGet("/tasks/{id}", GetTaskAsync)
            .WithName("GetTask")
            .WithSummary("A task with its current progress snapshot")
            .WithDescription("JSON only: an `Accept` of `text/event-stream` alone is 406 naming the stream (`/api/sse/tasks/{id}` on the Realtime service).")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status406NotAcceptable);
        users.MapGet("/batches/{id}", GetBatchAsync)
            .WithName("GetBatch")
            .WithSummary("A batch with its counts and task ids")
            .WithDescription("JSON only: an `Accept` of `text/event-stream` alone is 406 naming the stream (`/api/sse/batches/{id}` on the Realtime service).")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status406NotAcceptable);
        users.MapPost("/tasks/{id}/cancel", CancelTaskAsync)
            .WithName("CancelTask")
            .WithSummary("Cancels a queued task at once (200) or asks a running one to stop (202); 409 when it already ended");
        app.MapGet("/api/queue/stats", GetStatsAsync)
            .WithTags("Tasks")
            .WithName("GetQueueStats")
            .WithSummary("Queue-wide counts and the limits in effect (admin)")
            .RequireAuthorization(NotifyRoles.AdminPolicy);
        return app;
    }

    /// <summary><c>POST /api/tasks</c> body.</summary>
    public sealed record CreateTaskRequest(string? Kind, JsonElement? Params);

    /// <summary><c>POST /api/batches</c> body.</summary>
    public sealed record CreateBatchRequest(string? Kind, JsonElement[]? Items);

    public static async Task<Results<JsonHttpResult<object>, ValidationProblem, ProblemHttpResult>> CreateTaskAsync(
        CreateTaskRequest request, ClaimsPrincipal user, ITaskQueue queue, IOptionsMonitor<QueueOptions> options,
        IOptions<ApiOptions> api, HttpResponse response, CancellationToken cancellationToken)
    {
        var o = options.CurrentValue;
        if (ValidateKind(request.Kind, o) is { } badKind)
        {
            return badKind;
        }
        var parameters = Normalize(request.Params);
        if (TooLarge(parameters, o) is { } size)
        {
            return ParamsTooLarge("params", size, o);
        }
        try
        {
            var task = await queue.EnqueueAsync(user.GetUserId()!, request.Kind!, parameters, cancellationToken);
            return Json(new { task_id = task.Id, status = task.Status }, StatusCodes.Status202Accepted);
        }
        catch (QueueFullException full)
        {
            return Full(full, o, api.Value, response);
        }
    }

    public static async Task<Results<JsonHttpResult<object>, ValidationProblem, ProblemHttpResult>> CreateBatchAsync(
        CreateBatchRequest request, ClaimsPrincipal user, ITaskQueue queue, IOptionsMonitor<QueueOptions> options,
        IOptions<ApiOptions> api, HttpResponse response, CancellationToken cancellationToken)
    {
        var o = options.CurrentValue;
        if (ValidateKind(request.Kind, o) is { } badKind)
        {
            return badKind;
        }
        if (request.Items is not { Length: > 0 } items)
        {
            return Field("items", "items must be a non-empty array of task params.");
        }
        if (items.Length > o.MaxBatchItems)
        {
            return Limit(StatusCodes.Status413PayloadTooLarge, "items", "Queue:MaxBatchItems", o.MaxBatchItems,
                $"items may hold at most {o.MaxBatchItems} entries (Queue:MaxBatchItems); got {items.Length}.");
        }
        var parameters = new JsonElement?[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            parameters[i] = Normalize(items[i]);
            if (TooLarge(parameters[i], o) is { } size)
            {
                return ParamsTooLarge($"items[{i}]", size, o);
            }
        }
        try
        {
            var batch = await queue.EnqueueBatchAsync(user.GetUserId()!, request.Kind!, parameters, cancellationToken);
            return Json(new { batch_id = batch.Id, task_ids = batch.TaskIds, status = TaskState.Queued }, StatusCodes.Status202Accepted);
        }
        catch (QueueFullException full)
        {
            return Full(full, o, api.Value, response);
        }
    }

    public static async Task<Results<JsonHttpResult<object>, ProblemHttpResult>> GetTaskAsync(
        string id, ClaimsPrincipal user, HttpRequest request, ITaskQueue queue, IProgressStore progress, CancellationToken cancellationToken)
    {
        if (!TaskIds.IsWellFormed(id))
        {
            return MalformedId("Task");
        }
        if (WantsOnlyEventStream(request))
        {
            return StreamElsewhere($"/api/sse/tasks/{id}");
        }
        var task = await queue.GetAsync(id, cancellationToken);
        if (task is null || !CanSee(user, task.UserId))
        {
            return NotFound("Task");
        }
        var snapshot = await progress.GetTaskAsync(id, cancellationToken);
        return Json(TaskView(task, snapshot));
    }

    public static async Task<Results<JsonHttpResult<object>, ProblemHttpResult>> GetBatchAsync(
        string id, ClaimsPrincipal user, HttpRequest request, ITaskQueue queue, CancellationToken cancellationToken)
    {
        if (!TaskIds.IsWellFormed(id))
        {
            return MalformedId("Batch");
        }
        if (WantsOnlyEventStream(request))
        {
            return StreamElsewhere($"/api/sse/batches/{id}");
        }
        var batch = await queue.GetBatchAsync(id, cancellationToken);
        if (batch is null || !CanSee(user, batch.UserId))
        {
            return NotFound("Batch");
        }
        var c = batch.Counts;
        return Json(new
        {
            batch_id = batch.Id,
            user_id = batch.UserId,
            kind = batch.Kind,
            status = c.IsFinished ? "finished" : "running",
            total = c.Total,
            queued = c.Queued,
            running = c.Running,
            completed = c.Completed,
            failed = c.Failed,
            cancelled = c.Cancelled,
            progress = c.Progress,
            task_ids = batch.TaskIds,
            created_at = batch.CreatedAt,
            finished_at = batch.FinishedAt,
        });
    }

    public static async Task<Results<JsonHttpResult<object>, ProblemHttpResult>> CancelTaskAsync(
        string id, ClaimsPrincipal user, ITaskQueue queue, TaskEvents events, CancellationToken cancellationToken)
    {
        if (!TaskIds.IsWellFormed(id))
        {
            return MalformedId("Task");
        }
        var task = await queue.GetAsync(id, cancellationToken);
        if (task is null || !CanSee(user, task.UserId))
        {
            return NotFound("Task");
        }
        var transition = await queue.CancelAsync(id, CancellationToken.None);
        await events.PublishAsync(transition, CancellationToken.None);
        return transition.Kind switch
        {
            TransitionKind.Finished => Json(new { task_id = id, status = TaskState.Cancelled, cancel_requested = true }),
            TransitionKind.CancelRequested => Json(new { task_id = id, status = TaskState.Running, cancel_requested = true }, StatusCodes.Status202Accepted),
            _ => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Conflict",
                detail: $"Task already ended ({JsonNamingPolicyName(transition.Status)}); nothing to cancel."),
        };
    }

    public static async Task<JsonHttpResult<object>> GetStatsAsync(ITaskQueue queue, QueueSettings settings, CancellationToken cancellationToken)
    {
        var stats = await queue.GetStatsAsync(cancellationToken);
        var limits = settings.Current;
        return Json(new
        {
            queued = stats.Queued,
            processing = stats.Processing,
            completed = stats.Completed,
            failed = stats.Failed,
            cancelled = stats.Cancelled,
            per_user_limit = limits.PerUser,
            global_limit = limits.Global,
        });
    }

    private static object TaskView(TaskRecord task, TaskProgress? snapshot) => new
    {
        task_id = task.Id,
        user_id = task.UserId,
        kind = task.Kind,
        status = task.Status,
        @params = task.Params,
        batch_id = task.BatchId,
        attempts = task.Attempts,
        created_at = task.CreatedAt,
        started_at = task.StartedAt,
        finished_at = task.FinishedAt,
        error = task.Error,
        result = task.Result,
        cancel_requested = task.CancelRequested,
        progress = snapshot,
    };

    private static bool CanSee(ClaimsPrincipal user, string ownerId) =>
        string.Equals(user.GetUserId(), ownerId, StringComparison.Ordinal) || user.IsAdmin();

    private static ValidationProblem? ValidateKind(string? kind, QueueOptions o) =>
        string.IsNullOrWhiteSpace(kind) ? Field("kind", "kind is required.")
        : !o.EnabledKinds.Contains(kind, StringComparer.Ordinal)
            ? Field("kind", $"Unknown kind '{Shorten(kind)}'; known kinds: {(o.EnabledKinds.Count == 0 ? "none" : string.Join(", ", o.EnabledKinds))}.")
        : null;

    private static JsonElement? Normalize(JsonElement? value) =>
        value is { ValueKind: not (JsonValueKind.Undefined or JsonValueKind.Null) } v ? v : null;

    private static JsonHttpResult<object> Json(object value, int status = StatusCodes.Status200OK) =>
        TypedResults.Json(value, NotifyJson.Options, statusCode: status);

    private static string JsonNamingPolicyName(TaskState state) => state.ToString().ToLowerInvariant();

    private static string Shorten(string s) => s.Length <= 64 ? s : s[..64] + "…";
}
