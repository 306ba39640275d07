var builder = DistributedApplication.CreateBuilder(args);

var redis = builder.AddRedis("redis");

var mongo = builder.AddMongoDB("mongo");
var notifydb = mongo.AddDatabase("notifydb");

// One HS256 key signs and verifies every token; a local run generates a fresh one.
var signingKey = builder.AddParameter("auth-signing-key", new GenerateParameterDefault { MinLength = 44, Special = false }, secret: true);

// Realtime replays missed notifications from the store, so it needs the database as well as Redis.
var realtime = builder.AddProject<Projects.Notify_Realtime>("realtime")
    .WithExternalHttpEndpoints()
    .WithReference(redis).WaitFor(redis)
    .WithReference(notifydb).WaitFor(notifydb)
    .WithEnvironment("Auth__SigningKey", signingKey)
    .WithReplicas(2);

var worker = builder.AddProject<Projects.Notify_Worker>("worker")
    .WithExternalHttpEndpoints()
    .WithReference(redis).WaitFor(redis)
    .WithReference(notifydb).WaitFor(notifydb)
    .WithEnvironment("Auth__SigningKey", signingKey)
    .WithUrl("/hangfire", "Hangfire dashboard");

// The Api serves the web UI, which connects browsers to Realtime and links admins to the Worker's dashboard.
var api = builder.AddProject<Projects.Notify_Api>("api")
    .WithExternalHttpEndpoints()
    .WithReference(redis).WaitFor(redis)
    .WithReference(notifydb).WaitFor(notifydb)
    .WithReference(realtime)
    .WithReference(worker)
    .WithEnvironment("Auth__SigningKey", signingKey)
    .WithUrl("/", "web UI")
    .WithUrl("/scalar", "OpenAPI reference");

if (builder.ExecutionContext.IsRunMode)
{
    // Local runs only: sign in with development tokens, and let the web UI (served by the Api) call the others.
    foreach (var project in new[] { realtime, api, worker })
    {
        project.WithEnvironment("Auth__EnableDevTokens", "true")
            .WithEnvironment("Cors__Origins__0", api.GetEndpoint("http"));
    }
}

builder.Build().Run();
