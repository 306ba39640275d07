using System.Text;
using System.Text.Json.Nodes;
using NJsonSchema;
using Notify.AppHost.Hosting;
using Notify.Tests.Infrastructure;
using Notify.Tests.Testing;

namespace Notify.Tests.AppHost;

public sealed class ManifestPublisherTests
{
    private const string Regenerate = "regenerate it: dotnet run --project Notify.AppHost -- --publisher manifest --output-path aspire-manifest.json";

    private static string CommittedManifestPath => Path.Combine(ServiceProcess.RepositoryRoot, "aspire-manifest.json");

    private static async Task<byte[]> PublishAsync(string manifestDirectory)
    {
        await using var app = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Notify_AppHost>(
            ["--publisher", "manifest"], configure: null, TestContext.Current.CancellationToken);
        using var stream = new MemoryStream();
        ManifestPublisher.Write(app.Resources, stream, manifestDirectory);
        return stream.ToArray();
    }

    [Fact]
    public async Task Write_CommittedManifest_EqualsRegeneratedByteForByte()
    {
        var generated = await PublishAsync(ServiceProcess.RepositoryRoot);
        var committed = await File.ReadAllBytesAsync(CommittedManifestPath, TestContext.Current.CancellationToken);

        Assert.True(generated.AsSpan().SequenceEqual(committed), $"aspire-manifest.json is stale; {Regenerate}\n{Encoding.UTF8.GetString(generated)}");
    }

    [Fact]
    public async Task Write_Manifest_ValidatesAgainstAspireSchema()
    {
        var schema = await AspireSchemaAsync();
        var manifest = Encoding.UTF8.GetString(await PublishAsync(ServiceProcess.RepositoryRoot));

        var errors = schema.Validate(manifest);

        Assert.True(errors.Count == 0, string.Join("\n", errors.Select(Describe)));
    }

    [Fact]
    public async Task Validate_ContainerWithoutImage_IsRejectedBySchema()
    {
        // The schema check above can fail: a manifest missing a required field does not validate.
        var schema = await AspireSchemaAsync();
        var manifest = JsonNode.Parse(await PublishAsync(ServiceProcess.RepositoryRoot))!;
        manifest["resources"]!["redis"]!.AsObject().Remove("image");

        Assert.NotEmpty(schema.Validate(manifest.ToJsonString()));
    }

    [Fact]
    public async Task Write_Projects_CarryReferencesSigningKeyAndNoRunOnlySettings()
    {
        var manifest = JsonNode.Parse(await PublishAsync(ServiceProcess.RepositoryRoot))!["resources"]!;

        foreach (var project in new[] { "realtime", "api", "worker" })
        {
            var resource = manifest[project]!;
            Assert.Equal("project.v0", (string?)resource["type"]);
            var env = resource["env"]!.AsObject();
            Assert.Equal("{redis.connectionString}", (string?)env["ConnectionStrings__redis"]);
            Assert.Equal("{notifydb.connectionString}", (string?)env["ConnectionStrings__notifydb"]);
            Assert.Equal("{auth-signing-key.value}", (string?)env["Auth__SigningKey"]);
            Assert.False(env.ContainsKey("Auth__EnableDevTokens"), "dev tokens are for local runs only");
            Assert.False(resource.AsObject().ContainsKey("replicas"));
        }
        Assert.Equal("{realtime.bindings.http.url}", (string?)manifest["api"]!["env"]!["services__realtime__http__0"]);
        Assert.Equal("Notify.Api/Notify.Api.csproj", (string?)manifest["api"]!["path"]);
        Assert.Equal("parameter.v0", (string?)manifest["auth-signing-key"]!["type"]);
        Assert.True((bool?)manifest["auth-signing-key"]!["inputs"]!["value"]!["secret"]);
        Assert.Equal("value.v0", (string?)manifest["notifydb"]!["type"]);
    }

    [Fact]
    public async Task Run_PublisherManifestCommandLine_WritesFileWithPathsRelativeToIt()
    {
        var directory = Directory.CreateTempSubdirectory("notify-manifest-").FullName;
        try
        {
            var output = Path.Combine(directory, "deploy", "aspire-manifest.json");
            await using var appHost = AppHostProcess.Start(["--publisher", "manifest", "--output-path", output]);

            Assert.Equal(0, await appHost.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            var written = await File.ReadAllBytesAsync(output, TestContext.Current.CancellationToken);
            Assert.Equal(await PublishAsync(Path.GetDirectoryName(output)!), written);
            var path = (string?)JsonNode.Parse(written)!["resources"]!["api"]!["path"];
            Assert.Equal(Path.Combine(ServiceProcess.RepositoryRoot, "Notify.Api", "Notify.Api.csproj"), Path.GetFullPath(Path.Combine(Path.GetDirectoryName(output)!, path!)));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
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
    /// means the same), and it ignores <c>const</c> (RicoSuter/NJsonSchema#1857; a one-value <c>enum</c> means the same),
    /// which would let <c>project.v0</c> match both project branches of the schema's <c>oneOf</c>.
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
