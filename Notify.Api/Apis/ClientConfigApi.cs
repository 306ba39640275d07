using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Notify.Core.Push;

namespace Notify.Api.Apis;

/// <summary>
/// <c>GET /api/config</c>: what a browser needs to find the other services (the Realtime replicas
/// and the Worker's dashboard). Public by design: it holds addresses only, never secrets. The
/// addresses come from the service-discovery keys the AppHost sets (<c>services__realtime__http__0..N</c>,
/// <c>services__worker__http__0</c>), so the page follows whatever topology is running. <c>vapid_public_key</c>
/// is the public VAPID key browsers subscribe with (null when push is off).
/// </summary>
internal static class ClientConfigApi
{
    public static IEndpointRouteBuilder MapClientConfigApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/config", GetConfig)
            .AllowAnonymous()
            .WithName("GetClientConfig")
            .WithTags("Config")
            .WithSummary("Where the web UI finds the Realtime replicas and the Worker dashboard.");
        return app;
    }

    internal static Ok<ClientConfig> GetConfig(IConfiguration configuration, IOptions<PushOptions> push)
    {
        var realtime = Endpoints(configuration, "realtime");
        var worker = Endpoints(configuration, "worker");
        return TypedResults.Ok(new ClientConfig(realtime, worker.FirstOrDefault(), push.Value.Enabled ? push.Value.VapidPublicKey : null));
    }

    /// <summary>The service's https endpoints if any, else its http ones, in index order.</summary>
    private static string[] Endpoints(IConfiguration configuration, string service)
    {
        foreach (var scheme in new[] { "https", "http" })
        {
            var urls = configuration.GetSection($"services:{service}:{scheme}").GetChildren()
                .Select(c => (Index: int.TryParse(c.Key, out var i) ? i : int.MaxValue, c.Value))
                .Where(c => !string.IsNullOrWhiteSpace(c.Value))
                .OrderBy(c => c.Index)
                .Select(c => c.Value!.TrimEnd('/'))
                .ToArray();
            if (urls.Length > 0)
            {
                return urls;
            }
        }
        return [];
    }

    /// <summary>The client configuration: empty lists mean "same origin as the page".</summary>
    internal sealed record ClientConfig(
        [property: JsonPropertyName("realtime_urls")] string[] RealtimeUrls,
        [property: JsonPropertyName("worker_url")] string? WorkerUrl,
        [property: JsonPropertyName("vapid_public_key")] string? VapidPublicKey);
}
