namespace Notify.Core.Tasks;

/// <summary>
/// Frame types of the task and batch topics (PROTOCOL.md §4–§5). A task topic carries
/// <see cref="Progress"/> frames (<see cref="TaskProgress"/>) and ends with exactly one
/// <see cref="Completed"/> (<see cref="TaskCompletedEvent"/>) or <see cref="Error"/>
/// (<see cref="TaskErrorEvent"/>). A batch topic carries <see cref="Progress"/> frames
/// (<see cref="BatchProgress"/>) and ends with one <see cref="Finished"/> (<see cref="BatchProgress"/>).
/// </summary>
public static class TaskFrames
{
    public const string Progress = "progress";
    public const string Completed = "completed";
    public const string Error = "error";
    public const string Finished = "finished";
}
