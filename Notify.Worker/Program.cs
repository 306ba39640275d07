using Notify.Worker;
using Notify.Worker.Dashboard;

var builder = WebApplication.CreateBuilder(args);
if (builder.RefusesUnknownSentinelService())
{
    return 1;
}

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapHangfireDashboardForAdmins();

app.Run();
return 0;
