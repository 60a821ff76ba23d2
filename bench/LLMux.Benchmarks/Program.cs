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
        BenchmarkSwitcher.FromAssembly(typeof(BenchProgram).Assembly).Run(args);
    }
}
