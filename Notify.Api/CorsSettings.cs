namespace Notify.Api;

/// <summary>Browser origins allowed to call the API cross-origin, section <c>Cors</c>.</summary>
public sealed class CorsSettings
{
    public const string SectionName = "Cors";

    /// <summary>Exact origins (e.g. <c>http://localhost:5173</c>). Default none: no cross-origin access.</summary>
    public string[] Origins { get; set; } = [];
}
