using System.Text.Json;

namespace Notify.Realtime.Connections;

/// <summary>
/// A ready frame on its way to one or many connections. Fan-out hands the same instance to every
/// receiver, so its envelope is read at most once on this instance, by whichever receiver needs it
/// first (an SSE writer, an echo filter, a task stream's end check), however many connections it reaches.
/// </summary>
internal sealed class SharedFrame(ReadOnlyMemory<byte> bytes)
{
    // A benign race: two receivers may both read it first; either result is the same.
    private FrameInfo? _info;

    public ReadOnlyMemory<byte> Bytes { get; } = bytes;

    public FrameInfo Info => _info ??= FrameInfo.Read(Bytes.Span);
}

/// <summary>
/// Reads the envelope of a ready frame (<c>{"type", "data": {"id", ...}}</c>) without deserializing it:
/// the type, where the data object lies in the bytes, and the data's <c>id</c>. Used where a frame's
/// bytes must be looked into (SSE event lines, replay de-duplication, terminal task frames).
/// </summary>
internal sealed record FrameInfo(string? Type, int DataStart, int DataLength, string? Id)
{
    private static readonly FrameInfo None = new(null, -1, 0, null);

    public static FrameInfo Read(ReadOnlySpan<byte> frame)
    {
        string? type = null, id = null;
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
        return new FrameInfo(type, dataStart, dataLength, id);
    }

    /// <summary>Whether a task/batch stream ends after this frame.</summary>
    public bool IsTerminal => Type is "completed" or "error" or "finished";
}
