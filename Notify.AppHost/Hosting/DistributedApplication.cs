using System.ComponentModel.DataAnnotations;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Configuration;

namespace Notify.AppHost.Hosting;

/// <summary>
/// The built graph. <see cref="Run"/> either writes the manifest (<c>--publisher manifest --output-path file</c>)
/// or starts every resource, prints where everything is, and stops it all on Ctrl+C / SIGTERM.
/// </summary>
public sealed class DistributedApplication : IAsyncDisposable
{
    private readonly DistributedApplicationBuilder _builder;
    private Orchestrator? _orchestrator;

    internal DistributedApplication(DistributedApplicationBuilder builder, IReadOnlyList<IResource> resources)
    {
        _builder = builder;
        Resources = resources;
        Output = new AppHostOutput(writeToConsole: builder.Testing is null);
    }

    public static DistributedApplicationBuilder CreateBuilder(string[] args) => new(args, TestingHook.Current.Value);

    /// <summary>Every resource in declaration order, implicit parameters last.</summary>
    public IReadOnlyList<IResource> Resources { get; }

    public IConfiguration Configuration => _builder.Configuration;

    public DistributedApplicationExecutionContext ExecutionContext => _builder.ExecutionContext;

    /// <summary>The <c>AppHost</c> section, bound and validated when the graph starts.</summary>
    internal AppHostOptions Options { get; private set; } = new();

    internal AppHostOutput Output { get; }

    /// <summary>The running graph; null before <see cref="StartAsync"/>.</summary>
    internal Orchestrator? Orchestrator => _orchestrator;

    /// <summary>Runs until Ctrl+C or SIGTERM. Sets the process exit code: 0 after a clean stop, 1 when the graph could not start.</summary>
    public void Run()
    {
        if (_builder.Testing is not null)
        {
            // Under the testing host the test starts the graph itself, with its own lifetime.
            return;
        }
        Environment.ExitCode = RunAsync(CancellationToken.None).GetAwaiter().GetResult();
    }

    /// <summary>Publishes or runs; returns the exit code.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        if (ExecutionContext.IsPublishMode)
        {
            return Publish();
        }

        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var signals = 0;
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            if (Interlocked.Increment(ref signals) == 1)
            {
                Output.Info($"{context.Signal} received: stopping (again to kill at once)");
                stopping.Cancel();
            }
            else
            {
                _orchestrator?.KillAll();
            }
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var sigquit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, OnSignal);

        try
        {
            await StartAsync(stopping.Token);
            Output.ResourceTable(_orchestrator!);
            await Task.Delay(Timeout.Infinite, stopping.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            return 0;
        }
        catch (AppHostException e)
        {
            Output.Error(e.Message);
            return 1;
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return 0;
        }
        finally
        {
            await StopAsync(CancellationToken.None);
            if (_orchestrator is not null)
            {
                Output.Info("stopped every process it started");
            }
        }
    }

    /// <summary>Starts every resource in dependency order and waits until all are healthy (or throws <see cref="AppHostException"/>).</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_orchestrator is not null)
        {
            throw new InvalidOperationException("The application is already started.");
        }
        Options = BindOptions(_builder.Configuration);
        _orchestrator = new Orchestrator(Resources, Options, _builder.Configuration, Output);
        await _orchestrator.StartAsync(cancellationToken);
    }

    /// <summary>Stops every process this application started (SIGTERM, then kill after <see cref="AppHostOptions.StopTimeout"/>).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_orchestrator is not null)
        {
            await _orchestrator.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_orchestrator is not null)
        {
            await _orchestrator.DisposeAsync();
        }
    }

    /// <summary>The <c>AppHost</c> section; a bad value stops the start with the key named.</summary>
    private static AppHostOptions BindOptions(IConfiguration configuration)
    {
        AppHostOptions options;
        try
        {
            options = configuration.GetSection(AppHostOptions.SectionName).Get<AppHostOptions>() ?? new AppHostOptions();
        }
        catch (InvalidOperationException e)
        {
            throw new AppHostException($"Invalid {AppHostOptions.SectionName} configuration: {e.Message}");
        }
        var errors = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), errors, validateAllProperties: true))
        {
            throw new AppHostException(string.Join(" ", errors.Select(e =>
                $"Invalid configuration {AppHostOptions.SectionName}:{string.Join(",", e.MemberNames)}: {e.ErrorMessage}")));
        }
        return options;
    }

    private int Publish()
    {
        if (!string.Equals(Configuration["publisher"], "manifest", StringComparison.OrdinalIgnoreCase))
        {
            Output.Error($"Unknown publisher '{Configuration["publisher"]}'; the only one is 'manifest'.");
            return 1;
        }
        var output = Path.GetFullPath(Configuration["output-path"] ?? "aspire-manifest.json");
        ManifestPublisher.WriteFile(this, output);
        Output.Info($"Published manifest to: {output}");
        return 0;
    }
}

/// <summary>A failure the AppHost reports as one line and exit code 1 (missing prerequisite, unhealthy resource).</summary>
public sealed class AppHostException(string message) : Exception(message);
