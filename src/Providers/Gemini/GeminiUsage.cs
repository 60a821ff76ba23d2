using System.Text.Json;
using LLMux.Pipeline.Wire;

namespace LLMux.Providers.Gemini;

/// <summary>
/// Gemini <c>usageMetadata</c> counts. Prompt tokens include cached ones; completion tokens include thoughts
/// (LiteLLM adds <c>thoughtsTokenCount</c> when prompt + candidates ≠ total).
/// </summary>
internal struct GeminiUsage
{
    public long Prompt;
    public long Candidates;
    public long Thoughts;
    public long Total;
    public long Cached;

    /// <summary>Reads <c>usageMetadata</c>; the reader is on its StartObject and ends on its EndObject.</summary>
    public static GeminiUsage Read(ref Utf8JsonReader reader)
    {
        var u = default(GeminiUsage);
        if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); return u; }
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("promptTokenCount"u8)) u.Prompt = Long(ref reader);
            else if (reader.ValueTextEquals("candidatesTokenCount"u8) || reader.ValueTextEquals("responseTokenCount"u8)) u.Candidates = Long(ref reader);
            else if (reader.ValueTextEquals("thoughtsTokenCount"u8)) u.Thoughts = Long(ref reader);
            else if (reader.ValueTextEquals("totalTokenCount"u8)) u.Total = Long(ref reader);
            else if (reader.ValueTextEquals("cachedContentTokenCount"u8)) u.Cached = Long(ref reader);
            else { reader.Read(); reader.Skip(); }
        }
        return u;
    }

    private static long Long(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var v) ? v : 0;
    }

    public readonly Usage ToUsage()
    {
        var completion = Candidates;
        if (Thoughts > 0 && Prompt + Candidates != Total) completion += Thoughts;
        var total = Total > 0 ? Total : Prompt + completion;
        return new Usage
        {
            PromptTokens = Prompt,
            CompletionTokens = completion,
            TotalTokens = total,
            PromptTokensDetails = new PromptTokensDetails { CachedTokens = Cached },
            CompletionTokensDetails = new CompletionTokensDetails { ReasoningTokens = Thoughts },
        };
    }
}
