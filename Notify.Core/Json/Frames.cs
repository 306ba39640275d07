using System.Text.Json;

namespace Notify.Core.Json;

/// <summary>
/// Builds protocol frames <c>{"type": ..., "data": ...}</c> as UTF-8 bytes, once, so the same bytes
/// can go on the bus and to every receiving connection without being serialized again.
/// </summary>
public static class Frames
{
    /// <summary>Serializes <c>{"type": type, "data": data}</c>.</summary>
    public static byte[] Serialize<T>(string type, T data) =>
        JsonSerializer.SerializeToUtf8Bytes(new Frame<T>(type, data), NotifyJson.Options);

    /// <summary>The envelope of every server frame.</summary>
    public sealed record Frame<T>(string Type, T Data);
}
