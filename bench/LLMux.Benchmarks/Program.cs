using BenchmarkDotNet.Running;

namespace LLMux.Benchmarks;

public static class BenchProgram
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(BenchProgram).Assembly).Run(args);
}
