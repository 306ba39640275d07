using Notify.Worker;
using Notify.Worker.Dashboard;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapHangfireDashboardForAdmins();

app.Run();
