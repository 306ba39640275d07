using System.Text;
using System.Text.Json.Nodes;
using NJsonSchema;
using Notify.Tests.Infrastructure;
using Notify.Tests.Testing;

namespace Notify.Tests.AppHost;

/// <summary>The deployment manifest, written by Aspire's own publisher (<c>--publisher manifest</c>).</summary>
public sealed class ManifestTests
{
    private const string Regenerate = "regenerate it: dotnet run --project Notify.AppHost -- --publisher manifest --output-path ../aspire-manifest.json";

    private static string CommittedManifestPath => Path.Combine(ServiceProcess.RepositoryRoot, "aspire-manifest.json");

    /// <summary>Publishes beside the committed file (paths in it are relative to its folder) and returns the text.</summary>
    private static async Task<string> PublishAsync()
    {
        var output = Path.Combine(ServiceProcess.RepositoryRoot, $"aspire-manifest.{Guid.NewGuid():N}.json");
        try
        {
            await using var appHost = AppHostProcess.Start(["--publisher", "manifest", "--output-path", output]);
            Assert.True(await appHost.WaitForExitAsync(TimeSpan.FromSeconds(120)) == 0, appHost.AllOutput);
            return await File.ReadAllTextAsync(output, TestContext.Current.CancellationToken);
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public async Task Publish_CommittedManifest_EqualsWhatAspireWritesNow()
    {
        var generated = await PublishAsync();
        var committed = await File.ReadAllTextAsync(CommittedManifestPath, TestContext.Current.CancellationToken);

        Assert.True(generated == committed, $"aspire-manifest.json is stale; {Regenerate}\n{generated}");
    }

    [Fact]
    public async Task Manifest_StandardResourcesReferencesAndNoRunOnlySettings()
    {
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(CommittedManifestPath, TestContext.Current.CancellationToken))!["resources"]!;

        Assert.Equal("container.v0", (string?)manifest["redis"]!["type"]);
        Assert.StartsWith("docker.io/library/redis:", (string?)manifest["redis"]!["image"], StringComparison.Ordinal);
        Assert.Equal("container.v0", (string?)manifest["mongo"]!["type"]);
        Assert.StartsWith("docker.io/library/mongo:", (string?)manifest["mongo"]!["image"], StringComparison.Ordinal);
        Assert.Equal("{mongo-password.value}", (string?)manifest["mongo"]!["env"]!["MONGO_INITDB_ROOT_PASSWORD"]);
        Assert.Contains("/notifydb?", (string?)manifest["notifydb"]!["connectionString"], StringComparison.Ordinal);
        foreach (var parameter in new[] { "auth-signing-key", "redis-password", "mongo-password" })
        {
            Assert.Equal("parameter.v0", (string?)manifest[parameter]!["type"]);
            Assert.True((bool?)manifest[parameter]!["inputs"]!["value"]!["secret"]);
        }
        foreach (var project in new[] { "realtime", "api", "worker" })
        {
            var resource = manifest[project]!;
            Assert.Equal("project.v0", (string?)resource["type"]);
            var env = resource["env"]!.AsObject();
            Assert.Equal("{redis.connectionString}", (string?)env["ConnectionStrings__redis"]);
            Assert.Equal("{notifydb.connectionString}", (string?)env["ConnectionStrings__notifydb"]);
            Assert.Equal("{auth-signing-key.value}", (string?)env["Auth__SigningKey"]);
            Assert.False(env.ContainsKey("Auth__EnableDevTokens"), "dev tokens are for local runs only");
            Assert.False(env.ContainsKey("Store__SqlitePath"), "SQLite is the local fallback only");
            Assert.True((bool?)resource["bindings"]!["http"]!["external"]);
        }
        Assert.Equal("{realtime.bindings.http.url}", (string?)manifest["api"]!["env"]!["services__realtime__http__0"]);
    }

    [Fact]
    public async Task Manifest_ValidatesAgainstAspireSchema_AndASchemaViolationIsCaught()
    {
        var schema = await AspireSchemaAsync();
        var text = await File.ReadAllTextAsync(CommittedManifestPath, TestContext.Current.CancellationToken);

        var errors = schema.Validate(text);

        Assert.True(errors.Count == 0, string.Join("\n", errors.Select(Describe)));
        var broken = JsonNode.Parse(text)!;
        broken["resources"]!["redis"]!.AsObject().Remove("image");
        Assert.NotEmpty(schema.Validate(broken.ToJsonString()));
    }

    private static string Describe(NJsonSchema.Validation.ValidationError error) => error switch
    {
        NJsonSchema.Validation.ChildSchemaValidationError child =>
            $"{error.Kind} {error.Path}: " + string.Join("; ", child.Errors.SelectMany(e => e.Value).Select(Describe)),
        _ => $"{error.Kind} {error.Path} {error.Property}",
    };

    /// <summary>
    /// Aspire's schema as NJsonSchema reads it, rewritten into equivalent forms NJsonSchema understands:
    /// it cannot load a boolean subschema under <c>properties</c> (<c>"build": false</c> on containers; <c>{"not": {}}</c>
    /// means the same), and it ignores <c>const</c> (a one-value <c>enum</c> means the same).
    /// </summary>
    private static async Task<JsonSchema> AspireSchemaAsync()
    {
        var path = Path.Combine(ServiceProcess.RepositoryRoot, "Notify.Tests", "AppHost", "aspire-8.0.json");
        var schema = JsonNode.Parse(await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken))!;
        Normalize(schema);
        return await JsonSchema.FromJsonAsync(schema.ToJsonString(), path, TestContext.Current.CancellationToken);
    }

    private static void Normalize(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                if (obj.ContainsKey("const") && !obj.ContainsKey("enum"))
                {
                    var value = obj["const"]?.DeepClone();
                    obj.Remove("const");
                    obj["enum"] = new JsonArray(value);
                }
                if (obj["properties"] is JsonObject properties)
                {
                    foreach (var name in properties.Select(p => p.Key).ToList())
                    {
                        if (properties[name] is JsonValue value && value.TryGetValue<bool>(out var allowed))
                        {
                            properties[name] = allowed ? new JsonObject() : new JsonObject { ["not"] = new JsonObject() };
                        }
                    }
                }
                foreach (var (_, child) in obj.ToList())
                {
                    Normalize(child);
                }
                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    Normalize(child);
                }
                break;
            default:
                break;
        }
    }
}
