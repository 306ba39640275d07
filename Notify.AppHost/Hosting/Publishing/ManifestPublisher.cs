using System.Text.Json;

namespace Notify.AppHost.Hosting;

/// <summary>
/// Writes the deployment manifest in the format of Aspire's manifest publisher (schema <c>aspire-8.0.json</c>):
/// containers for Redis and MongoDB, the database as a value, each project with its environment and bindings,
/// the parameters last. Replica counts and start order are run-time concerns and are not written.
/// </summary>
internal static class ManifestPublisher
{
    private const string RedisImage = "docker.io/library/redis:8.2";
    private const string MongoImage = "docker.io/library/mongo:8.0";

    public static void WriteFile(DistributedApplication app, string path)
    {
        var directory = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(directory);
        using var stream = File.Create(path);
        Write(app.Resources, stream, directory);
    }

    /// <summary>Writes the manifest; project paths are relative to <paramref name="manifestDirectory"/>.</summary>
    public static void Write(IReadOnlyList<IResource> resources, Stream stream, string manifestDirectory)
    {
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("$schema", "https://json.schemastore.org/aspire-8.0.json");
            writer.WriteStartObject("resources");
            foreach (var resource in resources)
            {
                writer.WriteStartObject(resource.Name);
                switch (resource)
                {
                    case RedisResource redis:
                        WriteRedis(writer, redis);
                        break;
                    case MongoDBServerResource mongo:
                        WriteMongo(writer, mongo);
                        break;
                    case MongoDBDatabaseResource database:
                        writer.WriteString("type", "value.v0");
                        writer.WriteString("connectionString", database.ConnectionStringExpression);
                        break;
                    case ProjectResource project:
                        WriteProject(writer, project, manifestDirectory);
                        break;
                    case ParameterResource parameter:
                        WriteParameter(writer, parameter);
                        break;
                    default:
                        throw new NotSupportedException($"Resource '{resource.Name}' of type {resource.GetType().Name} has no manifest form.");
                }
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        stream.WriteByte((byte)'\n');
    }

    private static void WriteRedis(Utf8JsonWriter writer, RedisResource redis)
    {
        var password = redis.PasswordParameter.ManifestExpression;
        writer.WriteString("type", "container.v0");
        writer.WriteString("connectionString", redis.ConnectionStringExpression);
        writer.WriteString("image", RedisImage);
        writer.WriteString("entrypoint", "/bin/sh");
        writer.WriteStartArray("args");
        writer.WriteStringValue("-c");
        writer.WriteStringValue("redis-server --requirepass $REDIS_PASSWORD");
        writer.WriteEndArray();
        writer.WriteStartObject("env");
        writer.WriteString("REDIS_PASSWORD", password);
        writer.WriteEndObject();
        WriteTcpBinding(writer, RedisResource.DefaultPort);
    }

    private static void WriteMongo(Utf8JsonWriter writer, MongoDBServerResource mongo)
    {
        writer.WriteString("type", "container.v0");
        writer.WriteString("connectionString", mongo.ConnectionStringExpression);
        writer.WriteString("image", MongoImage);
        writer.WriteStartObject("env");
        writer.WriteString("MONGO_INITDB_ROOT_USERNAME", "admin");
        writer.WriteString("MONGO_INITDB_ROOT_PASSWORD", mongo.PasswordParameter.ManifestExpression);
        writer.WriteEndObject();
        WriteTcpBinding(writer, MongoDBServerResource.DefaultPort);
    }

    private static void WriteTcpBinding(Utf8JsonWriter writer, int targetPort)
    {
        writer.WriteStartObject("bindings");
        writer.WriteStartObject("tcp");
        writer.WriteString("scheme", "tcp");
        writer.WriteString("protocol", "tcp");
        writer.WriteString("transport", "tcp");
        writer.WriteNumber("targetPort", targetPort);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void WriteProject(Utf8JsonWriter writer, ProjectResource project, string manifestDirectory)
    {
        writer.WriteString("type", "project.v0");
        writer.WriteString("path", Path.GetRelativePath(manifestDirectory, project.Metadata.ProjectPath).Replace('\\', '/'));
        writer.WriteStartObject("env");
        foreach (var (name, value) in ManifestEnvironment(project))
        {
            writer.WriteString(name, value);
        }
        writer.WriteEndObject();
        writer.WriteStartObject("bindings");
        foreach (var scheme in new[] { "http", "https" })
        {
            writer.WriteStartObject(scheme);
            writer.WriteString("scheme", scheme);
            writer.WriteString("protocol", "tcp");
            writer.WriteString("transport", "http");
            if (project.ExternalHttpEndpoints)
            {
                writer.WriteBoolean("external", true);
            }
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
    }

    /// <summary>A project's environment as Aspire orders it: OTLP settings, forwarded headers, ports, then references and variables as declared.</summary>
    internal static IEnumerable<(string Name, string Value)> ManifestEnvironment(ProjectResource project)
    {
        yield return ("OTEL_DOTNET_EXPERIMENTAL_OTLP_EMIT_EXCEPTION_LOG_ATTRIBUTES", "true");
        yield return ("OTEL_DOTNET_EXPERIMENTAL_OTLP_EMIT_EVENT_LOG_ATTRIBUTES", "true");
        yield return ("OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY", "in_memory");
        yield return ("ASPNETCORE_FORWARDEDHEADERS_ENABLED", "true");
        yield return ("HTTP_PORTS", $"{{{project.Name}.bindings.http.targetPort}}");
        foreach (var annotation in project.Environment)
        {
            switch (annotation)
            {
                case ReferenceAnnotation { Target: IResourceWithConnectionString target }:
                    yield return ($"ConnectionStrings__{target.Name}", $"{{{target.Name}.connectionString}}");
                    break;
                case ReferenceAnnotation { Target: ProjectResource target }:
                    yield return ($"services__{target.Name}__http__0", $"{{{target.Name}.bindings.http.url}}");
                    yield return ($"services__{target.Name}__https__0", $"{{{target.Name}.bindings.https.url}}");
                    break;
                case EnvironmentVariableAnnotation variable:
                    yield return (variable.Name, variable.Provider?.ManifestExpression ?? variable.Literal ?? "");
                    break;
                default:
                    throw new NotSupportedException($"Environment entry {annotation} of '{project.Name}' has no manifest form.");
            }
        }
    }

    private static void WriteParameter(Utf8JsonWriter writer, ParameterResource parameter)
    {
        writer.WriteString("type", "parameter.v0");
        writer.WriteString("value", $"{{{parameter.Name}.inputs.value}}");
        writer.WriteStartObject("inputs");
        writer.WriteStartObject("value");
        writer.WriteString("type", "string");
        if (parameter.Secret)
        {
            writer.WriteBoolean("secret", true);
        }
        if (parameter.Generate is { } generate)
        {
            writer.WriteStartObject("default");
            writer.WriteStartObject("generate");
            writer.WriteNumber("minLength", generate.MinLength);
            if (!generate.Special)
            {
                writer.WriteBoolean("special", false);
            }
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
        writer.WriteEndObject();
    }
}
