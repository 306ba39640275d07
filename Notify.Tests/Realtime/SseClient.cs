using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Notify.Tests.Infrastructure;

namespace Notify.Tests.Realtime;

/// <summary>One Server-Sent Event.</summary>
internal sealed record SseEvent(string? Id, string Event, string Data)
{
    public JsonElement Json => JsonDocument.Parse(Data).RootElement.Clone();
}

/// <summary>A streaming <see cref="HttpClient"/> reader of <c>text/event-stream</c> with bounded waits.</summary>
internal sealed class SseClient : IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private SseClient(HttpClient http, HttpResponseMessage response, StreamReader reader)
    {
        _http = http;
        _response = response;
        _reader = reader;
    }

    public HttpResponseMessage Response => _response;

    public string? Retry { get; private set; }

    public static async Task<SseClient> ConnectAsync(ServiceProcess service, string path, string? token, string? lastEventId = null, bool tokenInHeader = false)
    {
        var http = new HttpClient { BaseAddress = service.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        var url = token is null || tokenInHeader ? path : $"{path}?token={Uri.EscapeDataString(token)}";
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (tokenInHeader && token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }
        using var timeout = new CancellationTokenSource(RealtimeHost.Wait);
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        var stream = await response.Content.ReadAsStreamAsync(timeout.Token);
        return new SseClient(http, response, new StreamReader(stream, Encoding.UTF8));
    }

    /// <summary>The next event (heartbeats included), or null when the server ended the stream.</summary>
    public async Task<SseEvent?> ReceiveAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? RealtimeHost.Wait);
        string? id = null, type = null;
        var data = new StringBuilder();
        while (true)
        {
            var line = await _reader.ReadLineAsync(cts.Token);
            if (line is null)
            {
                return null;
            }
            if (line.Length == 0)
            {
                if (type is not null || data.Length > 0)
                {
                    return new SseEvent(id, type ?? "message", data.ToString());
                }
                continue;
            }
            if (line.StartsWith("retry:", StringComparison.Ordinal))
            {
                Retry = line["retry:".Length..].Trim();
            }
            else if (line.StartsWith("id:", StringComparison.Ordinal))
            {
                id = line["id:".Length..].Trim();
            }
            else if (line.StartsWith("event:", StringComparison.Ordinal))
            {
                type = line["event:".Length..].Trim();
            }
            else if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                data.Append(line["data:".Length..].TrimStart());
            }
        }
    }

    /// <summary>The next event that is not a heartbeat (null at the end of the stream).</summary>
    public async Task<SseEvent?> NextAsync(TimeSpan? timeout = null)
    {
        while (true)
        {
            var received = await ReceiveAsync(timeout);
            if (received?.Event != "heartbeat")
            {
                return received;
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        _http.Dispose();
        return ValueTask.CompletedTask;
    }
}
