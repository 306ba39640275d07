var builder = DistributedApplication.CreateBuilder(args);

// Run mode: redis-server from PATH with a password and an append-only file; publish mode: the stock Redis container.
var redis = builder.AddRedisServer("redis");

// Run mode: mongod from PATH, or ConnectionStrings:mongo; without either the services share one SQLite file.
var mongo = builder.AddMongoDB("mongo");
var notifydb = mongo.AddDatabase("notifydb");

// One HS256 key signs and verifies every token; a local run generates a fresh one.
var signingKey = builder.AddParameter("auth-signing-key", new GenerateParameterDefault { MinLength = 44, Special = false }, secret: true);

// Realtime replays missed notifications from the store, so it needs the database as well as Redis.
// Its replicas share one endpoint: DCP's proxy in front of them is the one URL clients get.
var realtime = builder.AddProject<Projects.Notify_Realtime>("realtime")
    .WithHttpEndpoint()
    .WithExternalHttpEndpoints()
    .WithReference(redis).WaitFor(redis)
    .WithReference(notifydb).WaitFor(notifydb)
    .WithEnvironment("Auth__SigningKey", signingKey)
    // A 4 MiB gen0 budget instead of one sized from the CPU cache (80 MiB on a large L3): about 1.7 KiB less
    // resident memory per idle connection at 19,000 (bench/results/realtime-idle-2026-12-07.md). Environment only.
    .WithEnvironment("DOTNET_GCgen0size", "0x400000")
    .WithHttpHealthCheck("/health")
    .WithReplicas(2);

var worker = builder.AddProject<Projects.Notify_Worker>("worker")
    .WithHttpEndpoint()
    .WithExternalHttpEndpoints()
    .WithReference(redis).WaitFor(redis)
    .WithReference(notifydb).WaitFor(notifydb)
    .WithEnvironment("Auth__SigningKey", signingKey)
    .WithHttpHealthCheck("/health")
    .WithUrl("/hangfire", "Hangfire dashboard");

// The Api serves the web UI, which connects browsers to Realtime and links admins to the Worker's dashboard.
// It starts last: a page it serves can connect at once.
var api = builder.AddProject<Projects.Notify_Api>("api")
    .WithHttpEndpoint()
    .WithExternalHttpEndpoints()
    .WithReference(redis).WaitFor(redis)
    .WithReference(notifydb).WaitFor(notifydb)
    .WithReference(realtime).WaitFor(realtime)
    .WithReference(worker).WaitFor(worker)
    .WithEnvironment("Auth__SigningKey", signingKey)
    .WithHttpHealthCheck("/health")
    .WithUrl("/", "web UI")
    .WithUrl("/scalar", "OpenAPI reference")
    .WithReadyLine(worker);

if (builder.ExecutionContext.IsRunMode)
{
    // Local runs only: sign in with development tokens, and let the web UI (served by the Api) call the others.
    foreach (var project in new[] { realtime, worker, api })
    {
        project.WithEnvironment("ASPNETCORE_ENVIRONMENT", builder.Configuration["AppHost:Environment"] ?? "Development")
            .WithEnvironment("Auth__EnableDevTokens", "true")
            .WithEnvironment("Cors__Origins__0", api.GetEndpoint("http"));
    }

    // Web Push: a fresh VAPID pair per local run (browsers subscribed in an earlier run re-subscribe on the
    // page's next load). The private key is a secret parameter, so it is masked wherever Aspire shows it.
    using var vapid = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
    var key = vapid.ExportParameters(includePrivateParameters: true);
    var vapidPublic = builder.AddParameter("push-vapid-public-key", System.Buffers.Text.Base64Url.EncodeToString([4, .. key.Q.X!, .. key.Q.Y!]));
    var vapidPrivate = builder.AddParameter("push-vapid-private-key", System.Buffers.Text.Base64Url.EncodeToString(key.D), secret: true);
    foreach (var project in new[] { worker, api })
    {
        project.WithEnvironment("Push__VapidPublicKey", vapidPublic)
            .WithEnvironment("Push__VapidPrivateKey", vapidPrivate)
            .WithEnvironment("Push__Subject", "mailto:notify@localhost");
    }
}

builder.Build().Run();
