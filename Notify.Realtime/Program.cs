using Notify.Realtime;
using Notify.Realtime.Apis;

var builder = WebApplication.CreateBuilder(args);
if (builder.RefusesUnknownSentinelService())
{
    return 1;
}

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
app.UseCors(Notify.Realtime.Extensions.CorsPolicy);
app.UseAuthentication();
app.UseAuthorization();

app.MapDefaultEndpoints();
app.MapStreamsApi();
app.MapStatsApi();

app.Run();
return 0;
