namespace LLMux.Pipeline.Capabilities;

/// <summary>The OpenAI parameters of the modes beyond chat and embeddings, in the order the matrix shows them.</summary>
public static class ModeParamNames
{
    public static readonly IReadOnlyList<string> Completion =
    [
        "best_of", "echo", "frequency_penalty", "logit_bias", "logprobs", "max_tokens", "n", "presence_penalty", "seed",
        "stop", "stream", "stream_options", "suffix", "temperature", "top_p", "user",
    ];

    /// <summary>Cohere's rerank request (the shape LiteLLM takes on <c>/v1/rerank</c>).</summary>
    public static readonly IReadOnlyList<string> Rerank = ["top_n", "return_documents", "rank_fields", "max_chunks_per_doc", "max_tokens_per_doc"];

    public static readonly IReadOnlyList<string> Moderation = [];

    public static readonly IReadOnlyList<string> Images =
    [
        "n", "quality", "response_format", "size", "style", "user", "background", "moderation", "output_compression",
        "output_format", "partial_images", "stream", "input_fidelity",
    ];

    public static readonly IReadOnlyList<string> AudioTranscription =
        ["language", "prompt", "response_format", "temperature", "timestamp_granularities", "include", "chunking_strategy", "stream"];

    public static readonly IReadOnlyList<string> AudioSpeech = ["voice", "response_format", "speed", "instructions", "stream_format"];

    /// <summary>The names of <paramref name="mode"/>; empty for chat, embeddings and responses (they have their own lists).</summary>
    public static IReadOnlyList<string> For(LlmMode mode) => mode switch
    {
        LlmMode.Completion => Completion,
        LlmMode.Rerank => Rerank,
        LlmMode.Moderation => Moderation,
        LlmMode.Images => Images,
        LlmMode.AudioTranscription => AudioTranscription,
        LlmMode.AudioSpeech => AudioSpeech,
        _ => [],
    };

    /// <summary>True when <paramref name="param"/> is one of <paramref name="mode"/>'s OpenAI parameters.</summary>
    public static bool Contains(LlmMode mode, string param)
    {
        var names = For(mode);
        for (var i = 0; i < names.Count; i++) if (names[i] == param) return true;
        return false;
    }
}
