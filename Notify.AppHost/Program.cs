// The resource graph is written by the AppHost work of issue 2 (see README.md).
Console.WriteLine("Notify.AppHost: not yet implemented");
