using System.Runtime.InteropServices;

namespace Notify.Tests.Testing;

/// <summary>POSIX signals to processes the tests started (through DCP or themselves).</summary>
public static partial class Signals
{
    public const int SigKill = 9;
    public const int SigTerm = 15;

    /// <summary><c>kill(2)</c>: 0 when the signal was sent.</summary>
    [LibraryImport("libc", EntryPoint = "kill")]
    public static partial int Kill(int pid, int signal);
}
