using System.Text.RegularExpressions;

namespace Notify.Core.Tasks;

/// <summary>
/// The shape of task and batch ids: lowercase ULIDs, 26 characters of Crockford base32, so they sort by
/// creation time. Anything else names no task: lookups answer "not found" without touching Redis (an id
/// such as <c>{batch}:tasks</c> would otherwise address another kind of key).
/// </summary>
public static partial class TaskIds
{
    /// <summary>Whether <paramref name="id"/> has the shape of a task or batch id.</summary>
    public static bool IsWellFormed(string? id) => id is { Length: 26 } && IdRegex().IsMatch(id);

    [GeneratedRegex("^[0-9a-hjkmnp-tv-z]{26}$", RegexOptions.CultureInvariant)]
    private static partial Regex IdRegex();
}
