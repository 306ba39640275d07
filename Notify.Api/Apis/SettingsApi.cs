namespace Notify.Api.Apis;

/// <summary>Runtime settings (admin).</summary>
internal static class SettingsApi
{
    public static IEndpointRouteBuilder MapSettingsApi(this IEndpointRouteBuilder app) => app;
}
