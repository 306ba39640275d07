using Microsoft.AspNetCore.Http.HttpResults;

namespace Notify.Api.Apis;

/// <summary>The problem-details answers every API shares.</summary>
internal static class Problems
{
    /// <summary>404 for a missing id, and equally for an id that belongs to someone else.</summary>
    public static ProblemHttpResult NotFound(string what = "Notification") =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not Found", detail: $"{what} not found.");

    /// <summary>400 naming one field.</summary>
    public static ValidationProblem Field(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] });
}
