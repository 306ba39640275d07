using System.Reflection;

// Project metadata in the shape Aspire generates into Projects.g.cs: the AppHost knows where each service's
// project file is, never its assembly. Paths resolve from the AppHost's own project folder, recorded at build.
namespace Projects;

public sealed class Notify_Api : IProjectMetadata
{
    public string ProjectPath => ProjectPaths.Sibling("Notify.Api");
}

public sealed class Notify_Realtime : IProjectMetadata
{
    public string ProjectPath => ProjectPaths.Sibling("Notify.Realtime");
}

public sealed class Notify_Worker : IProjectMetadata
{
    public string ProjectPath => ProjectPaths.Sibling("Notify.Worker");
}

/// <summary>The AppHost itself: what a test passes to <c>DistributedApplicationTestingBuilder.CreateAsync</c>.</summary>
public sealed class Notify_AppHost : IProjectMetadata
{
    public string ProjectPath => ProjectPaths.Sibling("Notify.AppHost");
}

internal static class ProjectPaths
{
    /// <summary>The folder that holds Notify.AppHost.csproj, as recorded when the AppHost was built.</summary>
    public static string AppHostDirectory { get; } =
        typeof(ProjectPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "apphostprojectpath")?.Value
        ?? throw new InvalidOperationException("The AppHost assembly does not record its project path.");

    public static string Sibling(string project) =>
        Path.GetFullPath(Path.Combine(AppHostDirectory, "..", project, project + ".csproj"));
}
