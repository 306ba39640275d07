using Hangfire;

namespace Notify.Worker.Dashboard;

/// <summary>Maps the Hangfire dashboard for admins only.</summary>
internal static class DashboardExtensions
{
    /// <summary>Where the dashboard is served.</summary>
    public const string Path = "/hangfire";

    /// <summary>Serves the Hangfire dashboard at <see cref="Path"/> behind the admin-only filter (never Hangfire's local-requests default).</summary>
    public static WebApplication MapHangfireDashboardForAdmins(this WebApplication app)
    {
        app.UseWhen(c => c.Request.Path.StartsWithSegments(Path), branch => branch.UseMiddleware<DashboardTokenMiddleware>());
        app.UseHangfireDashboard(Path, new DashboardOptions
        {
            Authorization = [],
            AsyncAuthorization = [app.Services.GetRequiredService<AdminDashboardAuthorizationFilter>()],
            DashboardTitle = "Notify Worker",
            DisplayStorageConnectionString = false,
            AppPath = null,
        });
        return app;
    }
}
