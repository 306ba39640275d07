using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;

namespace Aspire.Hosting;

/// <summary>Where a local run keeps its data: Redis's append-only file and, without MongoDB, the shared SQLite file.</summary>
public static class LocalRun
{
    private const string DataDirectoryKey = "AppHost:DataDirectory";

    /// <summary>
    /// <c>AppHost:DataDirectory</c> when set (data kept across runs); otherwise a folder of this run under the temp
    /// folder, removed when the AppHost stops.
    /// </summary>
    public static string DataDirectory(IDistributedApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.Configuration[DataDirectoryKey] is { Length: > 0 } configured)
        {
            return Directory.CreateDirectory(configured).FullName;
        }
        return Generated.GetValue(builder, CreateTemporary);
    }

    private static readonly ConditionalWeakTable<IDistributedApplicationBuilder, string> Generated = [];

    private static string CreateTemporary(IDistributedApplicationBuilder builder)
    {
        var directory = Directory.CreateTempSubdirectory("notify-apphost-").FullName;
        builder.Eventing.Subscribe<AfterResourcesCreatedEvent>((@event, _) =>
        {
            var lifetime = @event.Services.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>();
            lifetime.ApplicationStopped.Register(() => TryDelete(directory));
            return Task.CompletedTask;
        });
        return directory;
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // A process that outlived the run still writes there; the temp folder's own cleanup takes it.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
