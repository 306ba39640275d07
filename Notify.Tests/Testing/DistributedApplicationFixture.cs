using Notify.AppHost.Hosting;

namespace Notify.Tests.Testing;

/// <summary>
/// The whole graph, started once for a test class (<c>IClassFixture&lt;DistributedApplicationFixture&gt;</c>) and stopped
/// after it. Tests that share it must own their data (unique users, channels) and restart whatever replica they stop.
/// Derive and override <see cref="Configure"/> to change the graph.
/// </summary>
public class DistributedApplicationFixture : IAsyncLifetime
{
    private DistributedApplication? _app;

    public DistributedApplication App => _app ?? throw new InvalidOperationException("The fixture is not initialized.");

    protected virtual void Configure(DistributedApplicationTestingOptions options)
    {
    }

    public async ValueTask InitializeAsync()
    {
        _app = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Notify_AppHost>(Configure, CancellationToken.None);
        await _app.StartAsync(CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
        GC.SuppressFinalize(this);
    }
}
