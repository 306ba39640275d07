using System.Buffers;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;
using Notify.Realtime.Apis;
using Notify.Realtime.Connections;
using Notify.Realtime.Options;
using Notify.Realtime.Sessions;

namespace Notify.Realtime.Transports;

/// <summary>What a look at the first bytes of a connection decided.</summary>
internal enum HeadVerdict
{
    /// <summary>Could still be a stream upgrade: the head has not all arrived.</summary>
    NeedMore,
    /// <summary>Anything else: HTTP answers it, from the first byte.</summary>
    NotOurs,
    /// <summary>A well-formed WebSocket upgrade of a stream path, answered on the connection.</summary>
    Ours,
}

/// <summary>A stream upgrade read from a request head: what to stream, for whom, and the handshake's answers.</summary>
/// <param name="Kind">What it streams.</param>
/// <param name="ResourceId">The task id of a task stream.</param>
/// <param name="Token">The bearer token (<c>?token=</c>, else the Authorization header).</param>
/// <param name="LastId">The resume cursor (<c>Last-Event-ID</c>, else <c>?last_id=</c>).</param>
/// <param name="Key">The client's <c>Sec-WebSocket-Key</c>.</param>
/// <param name="Deflate">The negotiated permessage-deflate, or null for plain frames.</param>
/// <param name="Extensions">The <c>Sec-WebSocket-Extensions</c> answer, when deflate was negotiated.</param>
internal sealed record UpgradeRequest(StreamKind Kind, string? ResourceId, string? Token, string? LastId, string Key, WebSocketDeflateOptions? Deflate, string? Extensions)
{
    public StreamRequest ToStreamRequest(CancellationToken aborted) => new(Kind, ResourceId, Token, LastId, aborted);
}

/// <summary>
/// Reads the first request head of a connection for <see cref="DirectWebSocketUpgrade"/>. It says
/// <see cref="HeadVerdict.Ours"/> only for a head the request pipeline would upgrade the same way: an
/// HTTP/1.1 <c>GET</c> of a WebSocket path (exact spelling, no encoded or dot segments) with one each of
/// <c>Host</c>, <c>Upgrade: websocket</c>, <c>Connection: …upgrade…</c>, <c>Sec-WebSocket-Version: 13</c>
/// and a 16-byte <c>Sec-WebSocket-Key</c>, no body, only visible ASCII, at most <see cref="MaxHeadBytes"/>.
/// Anything unusual (repeated headers, folded lines, a deflate offer it does not parse) is not ours:
/// HTTP answers it as it always did, so the strictness here never changes an answer.
/// </summary>
internal static class WebSocketRequestHead
{
    /// <summary>The largest head read here; a longer one goes to HTTP (whose own limits are larger).</summary>
    public const int MaxHeadBytes = 16 * 1024;

    /// <summary>Kestrel's default header count limit; a head with more lines goes to HTTP.</summary>
    private const int MaxHeaders = 100;

    private const string Version = " HTTP/1.1";
    private const string Deflate = "permessage-deflate";

    private static ReadOnlySpan<byte> Start => "GET /api/ws/"u8;

    private static ReadOnlySpan<byte> EndOfHead => "\r\n\r\n"u8;

    private static readonly SearchValues<char> Unreserved = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~");
    private static readonly SearchValues<char> HostChars = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._:[]");
    private static readonly SearchValues<char> TokenChars = SearchValues.Create("!#$%&'*+-.^_`|~ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");

    /// <summary>
    /// Looks at <paramref name="buffer"/>, the connection's bytes so far. On <see cref="HeadVerdict.Ours"/>,
    /// <paramref name="end"/> is where the head ends (the WebSocket's bytes begin).
    /// </summary>
    public static HeadVerdict Read(in ReadOnlySequence<byte> buffer, CompressionOptions compression, out UpgradeRequest? request, out SequencePosition end)
    {
        request = null;
        end = buffer.Start;
        Span<byte> first = stackalloc byte[Start.Length];
        var have = (int)Math.Min(buffer.Length, first.Length);
        buffer.Slice(0, have).CopyTo(first);
        if (!Start.StartsWith(first[..have]))
        {
            return HeadVerdict.NotOurs;
        }
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryReadTo(out ReadOnlySequence<byte> head, EndOfHead))
        {
            return buffer.Length >= MaxHeadBytes ? HeadVerdict.NotOurs : HeadVerdict.NeedMore;
        }
        if (head.Length + EndOfHead.Length > MaxHeadBytes)
        {
            return HeadVerdict.NotOurs;
        }
        // Latin-1 maps each byte to one char, so a byte outside visible ASCII is seen (and refused) as it is.
        request = Parse(Encoding.Latin1.GetString(head), compression);
        if (request is null)
        {
            return HeadVerdict.NotOurs;
        }
        end = reader.Position;
        return HeadVerdict.Ours;
    }

    private static UpgradeRequest? Parse(string head, CompressionOptions compression)
    {
        var lines = head.Split("\r\n");
        if (!TryReadTarget(lines[0], out var kind, out var resourceId, out var query) || lines.Length - 1 > MaxHeaders)
        {
            return null;
        }
        var headers = new Headers();
        for (var i = 1; i < lines.Length; i++)
        {
            if (!headers.TryAdd(lines[i]))
            {
                return null;
            }
        }
        if (!headers.IsUpgrade)
        {
            return null;
        }
        WebSocketDeflateOptions? deflate = null;
        string? extensions = null;
        if (compression.Enabled && headers.Extensions is { } offer && !TryNegotiate(offer, compression, out deflate, out extensions))
        {
            return null;
        }
        var parameters = QueryHelpers.ParseNullableQuery(query);
        return new UpgradeRequest(
            kind,
            resourceId,
            HttpStreamRequest.Token(Query(parameters, "token"), headers.Authorization ?? ""),
            HttpStreamRequest.LastId(headers.LastEventId ?? "", Query(parameters, "last_id")),
            headers.Key!,
            deflate,
            extensions);
    }

    /// <summary>As <c>Request.Query[name]</c> reads: decoded, several values joined with commas, null when absent.</summary>
    private static string? Query(Dictionary<string, StringValues>? parameters, string name) =>
        parameters is not null && parameters.TryGetValue(name, out var values) ? (string?)values : null;

    /// <summary>The request line: <c>GET {stream path}[?query] HTTP/1.1</c>, the path spelled exactly as routed.</summary>
    private static bool TryReadTarget(string line, out StreamKind kind, out string? resourceId, out string? query)
    {
        kind = default;
        resourceId = null;
        query = null;
        if (!line.EndsWith(Version, StringComparison.Ordinal) || line.Length <= 4 + Version.Length)
        {
            return false;
        }
        var target = line.AsSpan(4, line.Length - 4 - Version.Length);
        // Visible ASCII only, no fragment; the first '?' starts the query.
        if (target.ContainsAnyExceptInRange('!', '~') || target.Contains('#'))
        {
            return false;
        }
        var mark = target.IndexOf('?');
        var path = mark < 0 ? target : target[..mark];
        query = mark < 0 ? null : target[mark..].ToString();
        var group = StreamsApi.WebSocketGroup.AsSpan();
        if (!path.StartsWith(group, StringComparison.Ordinal))
        {
            return false;
        }
        var rest = path[group.Length..];
        if (rest.SequenceEqual(StreamsApi.NotificationsSocketPath))
        {
            kind = StreamKind.Notifications;
            return true;
        }
        if (rest.SequenceEqual(StreamsApi.AdminSocketPath))
        {
            kind = StreamKind.Admin;
            return true;
        }
        if (rest.StartsWith(StreamsApi.TasksSocketPath, StringComparison.Ordinal))
        {
            // A task id that needs no decoding and is no dot segment: routing would read it the same.
            var id = rest[StreamsApi.TasksSocketPath.Length..];
            if (id.Length > 0 && !id.ContainsAnyExcept(Unreserved) && id is not "." and not "..")
            {
                kind = StreamKind.Task;
                resourceId = id.ToString();
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// A permessage-deflate offer (RFC 7692 §7) answered as ASP.NET Core's WebSocket middleware answers it;
    /// false for an offer of another form (several offers, other extensions, unknown or repeated parameters,
    /// quoted values), which HTTP then negotiates. A declined offer (window bits 8) is true with no deflate.
    /// </summary>
    internal static bool TryNegotiate(string offer, CompressionOptions compression, out WebSocketDeflateOptions? deflate, out string? answer)
    {
        deflate = null;
        answer = null;
        var parts = offer.Split(';');
        if (parts[0].Trim() != Deflate)
        {
            return false;
        }
        var options = new WebSocketDeflateOptions
        {
            ServerContextTakeover = compression.ContextTakeover,
            ServerMaxWindowBits = compression.ServerMaxWindowBits,
        };
        var response = new StringBuilder(Deflate);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var offeredServerBits = false;
        var declined = false;
        foreach (var part in parts.Skip(1))
        {
            var parameter = part.Trim();
            var equals = parameter.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? parameter : parameter[..equals].TrimEnd();
            int? bits = null;
            if (equals >= 0)
            {
                if (!int.TryParse(parameter.AsSpan(equals + 1).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value is < 8 or > 15)
                {
                    return false;
                }
                // zlib here has no 8-bit window: such an offer is declined, the socket stays uncompressed.
                declined |= value == 8;
                bits = value == 8 ? 15 : value;
            }
            if (!seen.Add(name))
            {
                return false;
            }
            switch (name)
            {
                case "client_no_context_takeover" when bits is null:
                    options.ClientContextTakeover = false;
                    response.Append("; client_no_context_takeover");
                    break;
                case "server_no_context_takeover" when bits is null:
                    options.ServerContextTakeover = false;
                    break;
                case "client_max_window_bits":
                    options.ClientMaxWindowBits = bits ?? 15;
                    response.Append("; client_max_window_bits=").Append(options.ClientMaxWindowBits.ToString(CultureInfo.InvariantCulture));
                    break;
                case "server_max_window_bits":
                    offeredServerBits = true;
                    options.ServerMaxWindowBits = Math.Min(bits ?? 15, compression.ServerMaxWindowBits);
                    break;
                default:
                    return false;
            }
        }
        if (declined)
        {
            return true;
        }
        if (!options.ServerContextTakeover)
        {
            response.Append("; server_no_context_takeover");
        }
        if (offeredServerBits || options.ServerMaxWindowBits != 15)
        {
            response.Append("; server_max_window_bits=").Append(options.ServerMaxWindowBits.ToString(CultureInfo.InvariantCulture));
        }
        deflate = options;
        answer = response.ToString();
        return true;
    }

    /// <summary>The headers of a head that matter here, each at most once.</summary>
    private sealed class Headers
    {
        private string? _host;
        private string? _upgrade;
        private string? _connection;
        private string? _version;
        private string? _key;
        private string? _extensions;
        private string? _authorization;
        private string? _lastEventId;

        public string? Key => _key;
        public string? Extensions => _extensions;
        public string? Authorization => _authorization;
        public string? LastEventId => _lastEventId;

        /// <summary>A valid WebSocket upgrade (RFC 6455 §4.2.1) with a plain Host.</summary>
        public bool IsUpgrade =>
            _host is { Length: > 0 } host && !host.AsSpan().ContainsAnyExcept(HostChars)
            && string.Equals(_upgrade, "websocket", StringComparison.OrdinalIgnoreCase)
            && _connection is not null && _connection.Split(',').Any(t => t.Trim().Equals("upgrade", StringComparison.OrdinalIgnoreCase))
            && _version == "13"
            && IsKey(_key);

        /// <summary>Reads one header line; false for a line HTTP should judge (folded, malformed, repeated, announcing a body).</summary>
        public bool TryAdd(string line)
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || line.AsSpan(0, colon).ContainsAnyExcept(TokenChars))
            {
                return false;
            }
            var value = line[(colon + 1)..].Trim(' ', '\t');
            if (value.AsSpan().ContainsAnyExceptInRange(' ', '~'))
            {
                return false;
            }
            return line[..colon].ToLowerInvariant() switch
            {
                "host" => Once(ref _host, value),
                "upgrade" => Once(ref _upgrade, value),
                "connection" => Once(ref _connection, value),
                "sec-websocket-version" => Once(ref _version, value),
                "sec-websocket-key" => Once(ref _key, value),
                "sec-websocket-extensions" => Once(ref _extensions, value),
                "authorization" => Once(ref _authorization, value),
                "last-event-id" => Once(ref _lastEventId, value),
                "content-length" or "transfer-encoding" => false,
                _ => true,
            };
        }

        private static bool Once(ref string? field, string value)
        {
            if (field is not null)
            {
                return false;
            }
            field = value;
            return true;
        }

        private static bool IsKey(string? key)
        {
            // 16 bytes in base64 are 24 characters; a key spelled with spaces inside is left to HTTP.
            Span<byte> bytes = stackalloc byte[16];
            return key is { Length: 24 } && Convert.TryFromBase64String(key, bytes, out var written) && written == 16;
        }
    }
}
