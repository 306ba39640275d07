// The peer the Realtime benchmark compares against: a minimal ASP.NET Core SignalR hub, as a user
// would write it, on the default in-memory lifetime manager. Clients connect with ?user=<id>
// (WebSockets, JSON protocol); POST /broadcast and POST /notify/{user} push a message with the
// body as its only argument.
using Microsoft.AspNetCore.SignalR;

var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddSignalR();
builder.Services.AddSingleton<IUserIdProvider, QueryUserIdProvider>();

var app = builder.Build();
app.MapHub<NotifyHub>("/hub");
app.MapGet("/alive", () => "ok");
// The benchmark reads the GC's work before and after each broadcast burst: collections per generation, total pause.
app.MapGet("/gc", () => FormattableString.Invariant($"{GC.CollectionCount(0)} {GC.CollectionCount(1)} {GC.CollectionCount(2)} {GC.GetTotalPauseDuration().TotalMilliseconds:F1}"));
app.MapPost("/broadcast", async (HttpRequest request, IHubContext<NotifyHub> hub, CancellationToken cancellationToken) =>
{
    var body = await new StreamReader(request.Body).ReadToEndAsync(cancellationToken);
    await hub.Clients.All.SendAsync("m", System.Text.Json.JsonDocument.Parse(body).RootElement, cancellationToken);
    return Results.NoContent();
});
app.MapPost("/notify/{user}", async (string user, HttpRequest request, IHubContext<NotifyHub> hub, CancellationToken cancellationToken) =>
{
    var body = await new StreamReader(request.Body).ReadToEndAsync(cancellationToken);
    await hub.Clients.User(user).SendAsync("m", System.Text.Json.JsonDocument.Parse(body).RootElement, cancellationToken);
    return Results.NoContent();
});
app.Run();

internal sealed class NotifyHub : Hub;

internal sealed class QueryUserIdProvider : IUserIdProvider
{
    public string? GetUserId(HubConnectionContext connection) => connection.GetHttpContext()?.Request.Query["user"];
}
