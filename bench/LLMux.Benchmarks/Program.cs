using BenchmarkDotNet.Running;

namespace LLMux.Benchmarks;

public static class BenchProgram
{
    public static void Main(string[] args)
    {
        if (args is ["cputime", ..])
        {
            Decoders.DecoderCpuTime.Run();
            return;
        }
        if (args is ["spend-writer", ..])
        {
            Governance.SpendWriterThroughput.Run(args);
            return;
        }
        if (args is ["allocs", ..])
        {
            Pipeline.PipelineAllocations.Run(args.Length > 1 ? int.Parse(args[1]) : 200_000);
            return;
        }
        BenchmarkSwitcher.FromAssembly(typeof(BenchProgram).Assembly).Run(args);
    }
}
