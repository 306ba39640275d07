// Load benchmark of Notify.Realtime against a minimal SignalR hub (bench/peers). One server process
// under test; clients spread over several load processes (each below the 20,000-file limit).
//
//   dotnet run -c Release --project bench/Notify.Bench.Realtime -- [--connections 19000] [--fanout 10000]
//       [--rates 500,1000,2000,4000] [--seconds 10] [--targets notify,signalr] [--api-dll path] [--idle-only] [--out bench/results/realtime.md]
//
// Worker mode (started by the orchestrator): dotnet Notify.Bench.Realtime.dll worker ...
using Notify.Bench.Realtime;

return args.Length > 0 && args[0] == "worker"
    ? await LoadWorker.RunAsync(args[1..])
    : await Orchestrator.RunAsync(args);
