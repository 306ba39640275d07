using Notify.Core.Auth;

namespace Notify.Tests.Architecture;

/// <summary>Notify.Core is domain, ports and adapters: nothing of the web stack or the service defaults.</summary>
public sealed class CoreDependencyTests
{
    [Fact]
    public void Core_ReferencesNoWebFrameworkNorServiceDefaults()
    {
        var references = typeof(NotifyTokens).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();

        Assert.Contains("StackExchange.Redis", references); // the inspection sees real references
        Assert.DoesNotContain(references, name => name.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
        Assert.DoesNotContain("Notify.ServiceDefaults", references);
    }
}
