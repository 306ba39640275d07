using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Aspire.Hosting;

public static class ReadyLineExtensions
{
    /// <summary>
    /// Once the Api is healthy (it starts last, so everything is), the console says where to begin: the web UI, the
    /// OpenAPI reference and the Hangfire dashboard, beside the dashboard's login line that Aspire prints.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithReadyLine(this IResourceBuilder<ProjectResource> api, IResourceBuilder<ProjectResource> worker)
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(worker);
        api.ApplicationBuilder.Eventing.Subscribe<ResourceReadyEvent>(api.Resource, (@event, _) =>
        {
            var web = api.Resource.GetEndpoint("http").Url;
            var hangfire = worker.Resource.GetEndpoint("http").Url;
            @event.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Notify.AppHost").LogInformation(
                "Notify is running: web UI {WebUrl}/ · OpenAPI {WebUrl}/scalar · Hangfire {HangfireUrl}/hangfire", web, web, hangfire);
            return Task.CompletedTask;
        });
        return api;
    }
}
