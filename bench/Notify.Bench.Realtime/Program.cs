// Load benchmark of Notify.Realtime against two peers (bench/peers): the idiomatic SignalR hub and the
// bare Kestrel WebSocket floor. One server process under test at a time, in interleaved rounds; the same
// clients (this program's load processes, each below the open-file limit) for every server.
//
//   dotnet run -c Release --project bench/Notify.Bench.Realtime -- [--connections 19000] [--fanout 10000]
//       [--rounds 3] [--hold 25] [--broadcasts 50] [--senders 8]
//       [--targets notify,signalr,floor[,floor-upgrade,notify-pipeline,notify-sse]] [--server-env KEY=VALUE;KEY=VALUE]
//       [--full [--rates 500,1000,2000,4000] [--seconds 10] [--api-dll path]] [--idle-only] [--out bench/results/realtime.md]
//       [--perf DIR] [--counters DIR] [--baseline-dll path/Notify.Realtime.dll] [--warmup 40]
//
// A target with "-wks" or "-svr" appended (notify-svr, signalr-wks, ...) runs that server with workstation or
// server GC. --perf records each broadcast burst of the server with perf (DIR/<target>-round<n>.perf.data,
// JIT names from /tmp/perf-<pid>.map); --counters its runtime counters with dotnet-counters (GC, thread pool) and
// perf stat's count of context switches, socket sends, futex and epoll calls.
// The target notify-baseline runs the Notify.Realtime of --baseline-dll (another build, e.g. before a change)
// beside notify in the same interleaved rounds. --warmup N sends an unmeasured burst of N broadcasts before the
// measured one (the first burst of a fresh process also pays the tiered JIT's recompilation).
//
// --full adds the personal-notification rates and the reconnect storm (Notify and SignalR).
// notify-pipeline is Notify.Realtime with Realtime:DirectUpgrade=false; notify-sse holds the same clients as
// SSE streams (/api/sse/notifications) instead of WebSockets. --server-env adds environment variables to every
// server under test (e.g. GC settings).
// Worker mode (started by the orchestrator): dotnet Notify.Bench.Realtime.dll worker ...
using Notify.Bench.Realtime;

return args.Length > 0 && args[0] == "worker"
    ? await LoadWorker.RunAsync(args[1..])
    : await Orchestrator.RunAsync(args);
