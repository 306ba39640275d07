using System.Text.Json;
using System.Text.Json.Serialization;

namespace Notify.Core.Json;

/// <summary>The one JSON shape of the wire protocol: snake_case names, enums as snake_case strings.</summary>
public static class NotifyJson
{
    /// <summary>Serializer options for every frame, event, REST body and bus payload.</summary>
    public static JsonSerializerOptions Options { get; } = Create();

    /// <summary>Applies the protocol's conventions to <paramref name="options"/> (used for ASP.NET Core's own options).</summary>
    public static void Configure(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = null;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        options.Converters.Add(new UtcTimestampConverter());
    }

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        Configure(options);
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
