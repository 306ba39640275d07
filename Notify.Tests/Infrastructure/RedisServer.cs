using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace Notify.Tests.Infrastructure;

/// <summary>
/// A real <c>redis-server</c> on a free loopback port with its data in a temp folder, stopped (and the
/// folder removed) on dispose. Use as an xunit class or assembly fixture; every test still owns its keys.
/// Fault tests make it durable (<see cref="Durable"/>), kill it and start it again on the same
/// port and data.
/// </summary>
public sealed class RedisServer : IRedisEndpoint, IAsyncLifetime
{
    private readonly bool _appendOnly;
    private Process? _process;
    private string? _dir;

    public RedisServer()
    {
    }

    private RedisServer(bool appendOnly) => _appendOnly = appendOnly;

    /// <summary>A server that keeps an append-only file synced on every write, so a killed one restarts with all its data.</summary>
    public static RedisServer Durable() => new(appendOnly: true);

    public int Port { get; private set; }

    /// <summary>StackExchange.Redis configuration string for this server.</summary>
    public string ConnectionString => $"127.0.0.1:{Port},abortConnect=false";

    public async ValueTask InitializeAsync()
    {
        _dir = Directory.CreateTempSubdirectory("notify-redis-").FullName;
        Port = FreePort();
        await StartAsync();
    }

    /// <summary>Kills the server at once (SIGKILL), as a crash would.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        _process?.Dispose();
        _process = null;
    }

    /// <summary>Starts the server again on the same port with the same data folder, once it was killed.</summary>
    public Task RestartAsync() => _process is null ? StartAsync() : throw new InvalidOperationException("redis-server is still running");

    private async Task StartAsync()
    {
        var psi = new ProcessStartInfo("redis-server")
        {
            ArgumentList =
            {
                "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", _appendOnly ? "yes" : "no", "--appendfsync", "always", "--dir", _dir!,
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Tied to the test process: a test host that dies takes its Redis with it.
        _process = ProcessLauncher.Start(psi);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (true)
        {
            try
            {
                await using var mux = await ConnectionMultiplexer.ConnectAsync(ConnectionString + ",connectTimeout=500");
                if (mux.IsConnected)
                {
                    await mux.GetDatabase().PingAsync();
                    return;
                }
            }
            catch (RedisConnectionException) when (!cts.IsCancellationRequested)
            {
            }
            catch (RedisServerException ex) when (ex.Message.StartsWith("LOADING", StringComparison.Ordinal) && !cts.IsCancellationRequested)
            {
                // A restarted server answers LOADING while it reads its append-only file back.
            }
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited with {_process.ExitCode}");
            }
            cts.Token.ThrowIfCancellationRequested();
            await Task.Delay(50, cts.Token);
        }
    }

    /// <summary>A new multiplexer to this server (the caller disposes it).</summary>
    public Task<ConnectionMultiplexer> ConnectAsync() => ConnectionMultiplexer.ConnectAsync(ConnectionString);

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        _process?.Dispose();
        if (_dir is not null)
        {
            try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>A TCP port on 127.0.0.1 that is free at the moment of asking.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
