using Microsoft.ML.Tokenizers;

namespace LLMux.Stages.Tokenization;

/// <summary>
/// OpenAI's o200k_base tokenizer (Microsoft.ML.Tokenizers, its data shipped in the package, no download), loaded once on
/// first use and shared: its vocabulary is several megabytes, so every estimator and counter uses this one instance.
/// </summary>
internal static class O200k
{
    private static readonly Lazy<Tokenizer> Instance = new(static () => TiktokenTokenizer.CreateForEncoding("o200k_base"));

    public static Tokenizer Value => Instance.Value;
}
