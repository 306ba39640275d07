namespace Notify.Realtime.Sessions;

/// <summary>One message a client sent, as its transport read it.</summary>
/// <param name="Bytes">The message (empty when <paramref name="TooBig"/>); valid only until the dispatch returns.</param>
/// <param name="IsBinary">A binary message (the protocol only has text frames).</param>
/// <param name="TooBig">Longer than <c>Realtime:MaxMessageBytes</c>; its bytes were not kept.</param>
internal readonly record struct ClientMessage(ReadOnlyMemory<byte> Bytes, bool IsBinary = false, bool TooBig = false);
