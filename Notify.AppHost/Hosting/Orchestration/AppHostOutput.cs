using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Notify.AppHost.Hosting;

/// <summary>
/// Everything the AppHost says: its own lines (<c>[apphost] ...</c>), each resource's log lines prefixed with the
/// resource name (<c>[realtime-0] ...</c>) and the resource table. The last lines of each source are kept
/// (bounded) so failures can quote them; the testing host keeps them off the console.
/// </summary>
internal sealed class AppHostOutput(bool writeToConsole)
{
    private const int KeptLines = 300;
    private const string AppHost = "apphost";
    private readonly ConcurrentDictionary<string, ConcurrentQueue<string>> _recent = new(StringComparer.Ordinal);

    public void ResourceLine(string resource, string line)
    {
        Keep(resource, line);
        if (writeToConsole)
        {
            Console.Out.WriteLine($"[{resource}] {line}");
        }
    }

    public void Info(string message) => ResourceLine(AppHost, message);

    /// <summary>A failure, on stderr and on one line.</summary>
    public void Error(string message)
    {
        Keep(AppHost, message);
        if (writeToConsole)
        {
            Console.Error.WriteLine(message);
        }
    }

    /// <summary>The last lines <paramref name="resource"/> wrote, oldest first.</summary>
    public IReadOnlyList<string> Recent(string resource) =>
        _recent.TryGetValue(resource, out var lines) ? [.. lines] : [];

    public void ResourceTable(Orchestrator orchestrator)
    {
        var table = FormatTable(orchestrator);
        Keep(AppHost, table);
        if (writeToConsole)
        {
            Console.Out.Write(table);
        }
    }

    internal static string FormatTable(Orchestrator orchestrator)
    {
        var rows = new List<(string Resource, string State, string Url, string Note)>();
        foreach (var instance in orchestrator.Instances)
        {
            rows.Add((instance.Name, instance.State.ToString(), instance.Url?.ToString() ?? instance.Endpoint ?? "", instance.Note ?? ""));
            if (instance.Url is { } url)
            {
                rows.Add(("", "", new Uri(url, "/health").ToString(), "health"));
                if (instance.Resource is ProjectResource project)
                {
                    foreach (var (path, displayText) in project.Urls)
                    {
                        rows.Add(("", "", new Uri(url, path).ToString(), displayText));
                    }
                }
            }
        }
        var width0 = Math.Max("RESOURCE".Length, rows.Max(r => r.Resource.Length));
        var width1 = Math.Max("STATE".Length, rows.Max(r => r.State.Length));
        var width2 = Math.Max("URL".Length, rows.Max(r => r.Url.Length));
        var text = new StringBuilder();
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"  {"RESOURCE".PadRight(width0)}  {"STATE".PadRight(width1)}  {"URL".PadRight(width2)}  NOTE");
        foreach (var (resource, state, url, note) in rows)
        {
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"  {resource.PadRight(width0)}  {state.PadRight(width1)}  {url.PadRight(width2)}  {note}").TrimEnd());
        }
        text.AppendLine();
        text.AppendLine("Notify is running; every resource is healthy. Press Ctrl+C to stop.");
        text.AppendLine();
        return text.ToString();
    }

    private void Keep(string source, string line)
    {
        var lines = _recent.GetOrAdd(source, _ => new ConcurrentQueue<string>());
        lines.Enqueue(line);
        while (lines.Count > KeptLines && lines.TryDequeue(out _))
        {
        }
    }
}
