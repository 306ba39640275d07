using Aspire.Hosting;

namespace Notify.Tests.Testing;

/// <summary>
/// The whole graph, started once for a test class (<c>IClassFixture&lt;DistributedApplicationFixture&gt;</c>) and stopped
/// after it. Tests that share it must own their data (unique users, channels) and start again whatever they stop.
/// </summary>
public class DistributedApplicationFixture : IAsyncLifetime
{
    private DistributedApplication? _app;

    public DistributedApplication App => _app ?? throw new InvalidOperationException("The fixture is not initialized.");

    public async ValueTask InitializeAsync() => _app = await NotifyApp.StartAsync(CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
        GC.SuppressFinalize(this);
    }
}
