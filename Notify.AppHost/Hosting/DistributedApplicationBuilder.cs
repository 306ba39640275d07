using Microsoft.Extensions.Configuration;

namespace Notify.AppHost.Hosting;

/// <summary>Run (start the graph locally) or publish (write the manifest).</summary>
public sealed class DistributedApplicationExecutionContext(bool publish)
{
    public bool IsPublishMode { get; } = publish;

    public bool IsRunMode => !IsPublishMode;
}

/// <summary>Declares the resource graph; <see cref="Build"/> turns it into a runnable application.</summary>
public sealed class DistributedApplicationBuilder
{
    private readonly List<IResource> _resources = [];
    private readonly List<ParameterResource> _implicitParameters = [];

    internal DistributedApplicationBuilder(string[] args, TestingHook? testing)
    {
        Testing = testing;
        var configuration = new ConfigurationBuilder().AddEnvironmentVariables();
        if (testing is not null)
        {
            configuration.AddInMemoryCollection(testing.Configuration);
        }
        Configuration = configuration.AddCommandLine(args).Build();
        ExecutionContext = new DistributedApplicationExecutionContext(!string.IsNullOrEmpty(Configuration["publisher"]));
    }

    /// <summary>Environment variables, then the command line (<c>--AppHost:MaxRestarts=0</c>, <c>--publisher manifest</c>).</summary>
    public IConfiguration Configuration { get; }

    public DistributedApplicationExecutionContext ExecutionContext { get; }

    internal TestingHook? Testing { get; }

    public IResourceBuilder<T> AddResource<T>(T resource) where T : IResource
    {
        ArgumentNullException.ThrowIfNull(resource);
        if (_resources.Concat(_implicitParameters).Any(r => string.Equals(r.Name, resource.Name, StringComparison.OrdinalIgnoreCase)))
        {
            throw new InvalidOperationException($"A resource named '{resource.Name}' already exists.");
        }
        _resources.Add(resource);
        return new ResourceBuilder<T>(resource, this);
    }

    /// <summary>A parameter a resource creates for itself (e.g. <c>redis-password</c>); listed after the declared resources, as Aspire does.</summary>
    internal ParameterResource AddImplicitParameter(string name)
    {
        var parameter = new ParameterResource(name, secret: true, new GenerateParameterDefault { MinLength = 22, Special = false });
        _implicitParameters.Add(parameter);
        return parameter;
    }

    public DistributedApplication Build()
    {
        var app = new DistributedApplication(this, [.. _resources, .. _implicitParameters]);
        if (Testing is not null)
        {
            Testing.App = app;
        }
        return app;
    }
}

/// <summary>Set by the testing host around the AppHost's entry point: captures the built application instead of running it.</summary>
internal sealed class TestingHook
{
    public static readonly AsyncLocal<TestingHook?> Current = new();

    /// <summary>Configuration layered between the environment and the command line.</summary>
    public Dictionary<string, string?> Configuration { get; } = new(StringComparer.OrdinalIgnoreCase);

    public DistributedApplication? App { get; set; }
}
