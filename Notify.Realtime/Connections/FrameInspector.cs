using System.Text.Json;

namespace Notify.Realtime.Connections;

/// <summary>
/// A ready frame on its way to one or many connections. Fan-out hands the same instance to every
/// receiver, so its envelope is read at most once on this instance, by whichever receiver needs it
/// first (the topic's feed, an SSE writer, an echo filter, a preference filter, a task stream's end
/// check), however many connections it reaches.
/// </summary>
internal sealed class SharedFrame(ReadOnlyMemory<byte> bytes)
{
    // A benign race: two receivers may both read it first; either result is the same.
    private FrameInfo? _info;

    public ReadOnlyMemory<byte> Bytes { get; } = bytes;

    public FrameInfo Info => _info ??= FrameInfo.Read(Bytes.Span);

    /// <summary>Whether a task or batch stream closes with 1000 once this frame is written (its terminal frame).</summary>
    public bool EndsStream { get; init; }

    /// <summary>The same frame (bytes and envelope), marked as the one that ends a task or batch stream.</summary>
    public SharedFrame Ending() => new(Bytes) { _info = _info, EndsStream = true };
}

/// <summary>
/// Reads the envelope of a ready frame (<c>{"type", "data": {"id", "channel", "payload": {"type"}, ...}}</c>)
/// in one pass without deserializing it: the type, where the data object lies in the bytes, the data's
/// <c>id</c> and <c>channel</c>, and the <c>type</c> of its <c>payload</c> object. Used where a frame's bytes
/// must be looked into (SSE event lines, replay de-duplication, terminal task frames, preference filters).
/// </summary>
internal sealed record FrameInfo(string? Type, int DataStart, int DataLength, string? Id)
{
    private static readonly FrameInfo None = new(null, -1, 0, null);

    /// <summary>The data's <c>channel</c> when it is a string (message frames name their channel there).</summary>
    public string? Channel { get; private init; }

    /// <summary>The <c>type</c> of the data's <c>payload</c> when the payload is an object and its type a string.</summary>
    public string? PayloadType { get; private init; }

    public static FrameInfo Read(ReadOnlySpan<byte> frame)
    {
        string? type = null, id = null, channel = null, payloadType = null;
        int dataStart = -1, dataLength = 0;
        try
        {
            var reader = new Utf8JsonReader(frame);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return None;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("type"u8))
                {
                    reader.Read();
                    type = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
                else if (reader.ValueTextEquals("data"u8))
                {
                    reader.Read();
                    dataStart = (int)reader.TokenStartIndex;
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        var depth = reader.CurrentDepth;
                        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
                        {
                            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == depth + 1 && reader.ValueTextEquals("id"u8))
                            {
                                reader.Read();
                                id = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                            }
                            else if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == depth + 1 && reader.ValueTextEquals("channel"u8))
                            {
                                reader.Read();
                                channel = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                                reader.Skip();
                            }
                            else if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == depth + 1 && reader.ValueTextEquals("payload"u8))
                            {
                                reader.Read();
                                payloadType = reader.TokenType == JsonTokenType.StartObject ? TypeOf(ref reader) : null;
                                reader.Skip();
                            }
                            else if (reader.TokenType == JsonTokenType.PropertyName)
                            {
                                reader.Read();
                                reader.Skip();
                            }
                        }
                    }
                    else
                    {
                        reader.Skip();
                    }
                    dataLength = (int)reader.BytesConsumed - dataStart;
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            return new FrameInfo(type, -1, 0, null);
        }
        return new FrameInfo(type, dataStart, dataLength, id) { Channel = channel, PayloadType = payloadType };
    }

    /// <summary>The <c>type</c> string of the object the reader stands at the start of; leaves the reader inside it.</summary>
    private static string? TypeOf(ref Utf8JsonReader reader)
    {
        string? type = null;
        var depth = reader.CurrentDepth;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == depth + 1)
        {
            var isType = reader.ValueTextEquals("type"u8);
            reader.Read();
            if (isType)
            {
                type = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
            reader.Skip();
        }
        return type;
    }

    /// <summary>Whether a task/batch stream ends after this frame.</summary>
    public bool IsTerminal => Type is "completed" or "error" or "finished";
}
