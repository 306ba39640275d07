using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Http;

namespace Notify.Realtime.Options;

/// <summary>
/// WebSocket permessage-deflate (RFC 7692), section <c>Realtime:Compression</c>. Negotiated only when the
/// client offers it in <c>Sec-WebSocket-Extensions</c>; a client that does not offer it gets plain frames.
/// </summary>
public sealed class CompressionOptions
{
    public const string SectionName = "Realtime:Compression";

    /// <summary>Accept permessage-deflate when the client offers it. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Keep the server's deflate window between messages (context takeover): smaller frames for repetitive
    /// notifications, at about 64 KiB of memory per compressed connection. False sends
    /// <c>server_no_context_takeover</c>. Default true.
    /// </summary>
    public bool ContextTakeover { get; set; } = true;

    /// <summary>Server deflate window, as a power of two (9..15); smaller uses less memory per connection, compresses less. Default 15.</summary>
    [Range(9, 15)]
    public int ServerMaxWindowBits { get; set; } = 15;

    /// <summary>The accept context for an upgrade: heartbeats are frames of our own, so no keep-alive pings.</summary>
    internal WebSocketAcceptContext ToAcceptContext() => new()
    {
        KeepAliveInterval = TimeSpan.Zero,
        DangerousEnableCompression = Enabled,
        DisableServerContextTakeover = !ContextTakeover,
        ServerMaxWindowBits = ServerMaxWindowBits,
    };
}
