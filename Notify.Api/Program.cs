using Notify.Api;
using Notify.Api.Apis;

var builder = WebApplication.CreateBuilder(args);
if (builder.RefusesToStart() || builder.RefusesUnknownSentinelService())
{
    return 1;
}

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseApiPipeline();

app.MapDefaultEndpoints();
app.MapAuthApi();
app.MapNotificationsApi();
app.MapPublishApi();
app.MapSettingsApi();
app.MapPreferencesApi();
app.MapTasksApi();
app.MapStatsApi();
app.MapClientConfigApi();
app.MapPushSubscriptionsApi();
app.MapApiReference();

app.Run();
return 0;
