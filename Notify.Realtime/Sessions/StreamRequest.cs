using Notify.Realtime.Connections;

namespace Notify.Realtime.Sessions;

/// <summary>What a client asked for when it opened a stream.</summary>
/// <param name="Kind">What it streams.</param>
/// <param name="ResourceId">The task or batch id of a progress stream.</param>
/// <param name="Token">The bearer token it presented, if any.</param>
/// <param name="LastId">The resume cursor of a notification stream.</param>
/// <param name="Aborted">Cancelled when the client goes away.</param>
internal sealed record StreamRequest(StreamKind Kind, string? ResourceId, string? Token, string? LastId, CancellationToken Aborted)
{
    /// <summary>The bearer token, until <see cref="ForgetToken"/>.</summary>
    public string? Token { get; private set; } = Token;

    /// <summary>Drops the token once it is checked: a stream lives for hours and has no use for it (a JWT is a few hundred bytes).</summary>
    public void ForgetToken() => Token = null;
}

/// <summary>Why a stream is turned away before it opens; each transport says it in its own terms (PROTOCOL.md §3–§5).</summary>
internal enum Refusal
{
    /// <summary>The instance holds <c>Realtime:MaxConnections</c> streams (503 before any upgrade).</summary>
    InstanceFull,
    /// <summary>Token missing, invalid or expired (4001 / 401).</summary>
    Unauthorized,
    /// <summary>An admin stream without the admin role (4003).</summary>
    NotAdmin,
    /// <summary>The task or batch is unknown or someone else's (4003 / 404).</summary>
    NotFound,
    /// <summary>The user holds <c>Realtime:MaxConnectionsPerUser</c> streams (4008 / 429).</summary>
    TooManyConnections,
    /// <summary>Setting the stream up failed, e.g. Redis unreachable (1011 / 503).</summary>
    SetupFailed,
}
