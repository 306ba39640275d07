namespace Notify.Core.Http;

/// <summary>
/// The rule for <c>Cors:Origins</c>, checked the same way at start-up by every service that reads the key
/// (the Api and Realtime): a browser sends its origin without a path or trailing slash, so an entry with
/// either would silently match nothing.
/// </summary>
public static class CorsOrigins
{
    /// <summary>What a bad entry is told.</summary>
    public const string Rule = "Cors:Origins must be origins without a path or trailing slash, such as http://localhost:5173.";

    /// <summary>Whether <paramref name="value"/> is an absolute origin: scheme, host and optional port only.</summary>
    public static bool IsOrigin(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.AbsolutePath == "/" && !value.EndsWith('/')
        && string.IsNullOrEmpty(uri.Query) && string.IsNullOrEmpty(uri.Fragment);
}
