using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Notify.AppHost.Hosting;

/// <summary>Readiness checks: <c>/health</c> answers 200 for projects, <c>PING</c> answers for Redis, a TCP accept for MongoDB.</summary>
internal static class HealthProbes
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromSeconds(30) })
    {
        Timeout = TimeSpan.FromSeconds(2),
    };

    public static async Task<bool> HttpAsync(Uri health, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await Http.GetAsync(health, cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>PING a Redis given as a StackExchange.Redis configuration string (<c>host:port,password=...</c>).</summary>
    public static async Task<bool> RedisAsync(string configuration, CancellationToken cancellationToken)
    {
        var (host, port, password, ssl) = ParseRedis(configuration);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            using var client = new TcpClient();
            await client.ConnectAsync(host, port, timeout.Token);
            if (ssl)
            {
                return true;
            }
            var stream = client.GetStream();
            var command = password is null ? "PING\r\n" : $"AUTH {Bulk(password)}\r\nPING\r\n";
            await stream.WriteAsync(Encoding.UTF8.GetBytes(command), timeout.Token);
            var buffer = new byte[256];
            var received = new StringBuilder();
            while (!received.ToString().Contains("PONG", StringComparison.Ordinal))
            {
                var read = await stream.ReadAsync(buffer, timeout.Token);
                if (read == 0)
                {
                    return false;
                }
                received.Append(Encoding.UTF8.GetString(buffer, 0, read));
                if (received.ToString().StartsWith('-'))
                {
                    return false;
                }
            }
            return true;
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    public static async Task<bool> TcpAsync(string host, int port, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            using var client = new TcpClient();
            await client.ConnectAsync(host, port, timeout.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>host, port, password and ssl from <c>host[:port][,option=value...]</c>.</summary>
    internal static (string Host, int Port, string? Password, bool Ssl) ParseRedis(string configuration)
    {
        var parts = configuration.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        string host = "localhost";
        var port = 6379;
        string? password = null;
        var ssl = false;
        foreach (var part in parts)
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0)
            {
                var colon = part.LastIndexOf(':');
                host = colon < 0 ? part : part[..colon];
                port = colon < 0 ? 6379 : int.Parse(part[(colon + 1)..], CultureInfo.InvariantCulture);
            }
            else if (part[..eq].Equals("password", StringComparison.OrdinalIgnoreCase))
            {
                password = part[(eq + 1)..];
            }
            else if (part[..eq].Equals("ssl", StringComparison.OrdinalIgnoreCase))
            {
                ssl = bool.TryParse(part[(eq + 1)..], out var value) && value;
            }
        }
        return (host, port, password, ssl);
    }

    // RESP inline commands split on spaces; a quoted argument keeps a password intact.
    private static string Bulk(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
