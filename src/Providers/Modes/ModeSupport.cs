using System.Collections.Frozen;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Context;
using LLMux.Providers.Common;

namespace LLMux.Providers.Modes;

/// <summary>
/// Which of the OpenAI-shaped providers serve the modes beyond chat and embeddings themselves, with which
/// parameters (LiteLLM's lists; docs/parity/modes.md has the differences). Applied to the provider's spec when it is built.
/// </summary>
public static class ModeSupport
{
    private static readonly string[] OllamaCompletion = ["frequency_penalty", "presence_penalty", "seed", "stop", "stream", "stream_options", "temperature", "top_p", "max_tokens", "suffix"];
    private static readonly string[] VllmCompletion = ["best_of", "echo", "frequency_penalty", "logit_bias", "logprobs", "max_tokens", "n", "presence_penalty", "seed", "stop", "stream", "stream_options", "temperature", "top_p", "user"];
    private static readonly string[] FimCompletion = ["max_tokens", "temperature", "top_p", "stop", "stream", "suffix", "seed"];
    private static readonly string[] CohereLikeRerank = ["top_n", "return_documents"];

    /// <summary>LLMux attaches the request's documents to the results itself, whatever the upstream returns.</summary>
    private static readonly Dictionary<string, string> DocumentsByLLMux = new() { ["return_documents"] = "(applied by LLMux)" };

    /// <summary>Upstreams that score every document: LLMux sorts, cuts to <c>top_n</c> and attaches the documents.</summary>
    private static readonly Dictionary<string, string> TopNByLLMux = new() { ["top_n"] = "(applied by LLMux: results sorted and cut)", ["return_documents"] = "(applied by LLMux)" };

    /// <summary>OpenAI's images fields, forwarded as they are (per-model rules are checked at the endpoint); gpt-image streams pass through as SSE.</summary>
    private static readonly FrozenDictionary<string, ParamRule> OpenAIImages = ModeTables.AllNative(LlmMode.Images);

    /// <summary>Image APIs that answer with one body: a stream request is refused, never silently answered unstreamed.</summary>
    private static FrozenDictionary<string, ParamRule> NoImageStream(FrozenDictionary<string, ParamRule> table, string provider) =>
        ModeTables.Rejecting(table, $"{provider} image generation does not stream (only OpenAI/Azure gpt-image models do); send the request without it", "stream", "partial_images");

    /// <summary>Fireworks' audio host (transcriptions and translations), used when the deployment sets no api_base.</summary>
    public const string FireworksAudioBase = "https://audio-prod.api.fireworks.ai/v1";

    /// <summary>The spec with the modes <paramref name="spec"/>'s provider serves beyond chat and embeddings.</summary>
    public static ProviderSpec Apply(ProviderSpec spec) => ModeTables.With(spec, TablesFor(spec.Name));

    private static Dictionary<LlmMode, FrozenDictionary<string, ParamRule>> TablesFor(string provider)
    {
        var t = new Dictionary<LlmMode, FrozenDictionary<string, ParamRule>>();
        switch (provider)
        {
            case "openai":
                t[LlmMode.Completion] = ModeTables.AllNative(LlmMode.Completion);
                t[LlmMode.Moderation] = ModeTables.AllNative(LlmMode.Moderation);
                t[LlmMode.Images] = OpenAIImages;
                t[LlmMode.AudioSpeech] = ModeTables.AllNative(LlmMode.AudioSpeech);
                t[LlmMode.AudioTranscription] = ModeTables.AllNative(LlmMode.AudioTranscription);
                break;
            case "azure":
                t[LlmMode.Completion] = ModeTables.AllNative(LlmMode.Completion);
                t[LlmMode.Images] = OpenAIImages;
                t[LlmMode.AudioSpeech] = ModeTables.AllNative(LlmMode.AudioSpeech);
                t[LlmMode.AudioTranscription] = ModeTables.AllNative(LlmMode.AudioTranscription);
                break;
            case "groq":
                t[LlmMode.AudioSpeech] = ModeTables.Of(LlmMode.AudioSpeech, ["voice", "response_format", "speed"], provider);
                t[LlmMode.AudioTranscription] = ModeTables.Of(LlmMode.AudioTranscription, ["language", "prompt", "response_format", "temperature", "timestamp_granularities"], provider);
                break;
            case "azure_ai":
                t[LlmMode.Rerank] = ModeTables.Of(LlmMode.Rerank, ["top_n", "max_tokens_per_doc"], provider, mapped: DocumentsByLLMux,
                    notes: new Dictionary<string, string> { ["rank_fields"] = "Azure AI's Cohere rerank takes string documents only", ["max_chunks_per_doc"] = "Cohere v1 only (use max_tokens_per_doc)" });
                break;
            case "deepinfra":
                t[LlmMode.Rerank] = ModeTables.Of(LlmMode.Rerank, [], provider, mapped: TopNByLLMux);
                break;
            case "huggingface":
                t[LlmMode.Rerank] = ModeTables.Of(LlmMode.Rerank, [], provider, mapped: TopNByLLMux,
                    notes: new Dictionary<string, string> { ["rank_fields"] = "TEI's /rerank takes texts only" });
                break;
            case "nvidia_nim":
                t[LlmMode.Rerank] = ModeTables.Of(LlmMode.Rerank, ["truncate"], provider,
                    mapped: new Dictionary<string, string> { ["top_n"] = "top_k", ["return_documents"] = "(applied by LLMux)" });
                break;
            case "gemini":
            case "vertex_ai":
                if (provider == "vertex_ai")
                    t[LlmMode.Rerank] = ModeTables.Of(LlmMode.Rerank, [], provider,
                        mapped: new Dictionary<string, string> { ["top_n"] = "topN", ["return_documents"] = "ignoreRecordDetailsInResponse (negated); documents attached by LLMux" },
                        notes: new Dictionary<string, string> { ["rank_fields"] = "the ranking API takes records {id, title, content}; an object document's `title` and `text` fill them" });
                t[LlmMode.Images] = NoImageStream(ModeTables.Of(LlmMode.Images, ["response_format"], provider,
                    mapped: new Dictionary<string, string> { ["n"] = "parameters.sampleCount (Imagen) / candidateCount (Vertex Gemini)", ["size"] = "aspectRatio" },
                    notes: new Dictionary<string, string> { ["response_format"] = "b64_json only: Google returns image bytes; url is a 400" }), provider);
                t[LlmMode.AudioSpeech] = GoogleSpeech(provider);
                t[LlmMode.AudioTranscription] = GoogleTranscription(provider);
                break;
            case "xai":
                t[LlmMode.Images] = NoImageStream(ModeTables.Of(LlmMode.Images, ["n", "response_format", "user"], provider,
                    notes: new Dictionary<string, string> { ["size"] = "xAI's image API takes no size", ["quality"] = "xAI's image API takes no quality", ["style"] = "xAI's image API takes no style" }), provider);
                break;
            case "hosted_vllm":
                t[LlmMode.Completion] = ModeTables.Of(LlmMode.Completion, VllmCompletion, provider, notes: new Dictionary<string, string> { ["suffix"] = "vLLM's /v1/completions has no suffix (FIM)" });
                t[LlmMode.Rerank] = ModeTables.Of(LlmMode.Rerank, CohereLikeRerank, provider);
                break;
            case "infinity":
            case "jina_ai":
                t[LlmMode.Rerank] = ModeTables.Of(LlmMode.Rerank, CohereLikeRerank, provider);
                break;
            case "voyage":
                t[LlmMode.Rerank] = ModeTables.Of(LlmMode.Rerank, CohereLikeRerank, provider, mapped: new Dictionary<string, string> { ["top_n"] = "top_k" });
                break;
            case "cohere":
                t[LlmMode.Rerank] = ModeTables.Of(LlmMode.Rerank, ["top_n", "rank_fields", "max_tokens_per_doc"], provider, mapped: DocumentsByLLMux,
                    notes: new Dictionary<string, string> { ["max_chunks_per_doc"] = "Cohere v1 only; LLMux speaks v2 (use max_tokens_per_doc)" });
                break;
            case "together_ai":
                t[LlmMode.Completion] = ModeTables.Of(LlmMode.Completion, VllmCompletion.Where(static p => p != "best_of"), provider);
                t[LlmMode.Rerank] = ModeTables.Of(LlmMode.Rerank, ["top_n", "return_documents", "rank_fields"], provider);
                break;
            case "bedrock":
                t[LlmMode.Rerank] = ModeTables.Of(LlmMode.Rerank, [], provider,
                    mapped: new Dictionary<string, string> { ["top_n"] = "rerankingConfiguration.bedrockRerankingConfiguration.numberOfResults", ["return_documents"] = "(applied by LLMux)" });
                t[LlmMode.Images] = NoImageStream(ModeTables.Of(LlmMode.Images, Bedrock.BedrockImageFamilies.AllExtras, provider,
                    mapped: new Dictionary<string, string>
                    {
                        ["n"] = "imageGenerationConfig.numberOfImages (Titan, Nova Canvas 1–5); Stability: 1 only",
                        ["size"] = "imageGenerationConfig.width/height (Titan, Nova Canvas), width/height (SDXL); SD3 / Stable Image: 400, use aspect_ratio",
                        ["quality"] = "imageGenerationConfig.quality: hd/high → premium, standard/medium/low → standard (Titan, Nova Canvas)",
                        ["response_format"] = "b64_json only: Bedrock returns image bytes; url is a 400",
                        ["output_format"] = "output_format png/jpeg (SD3 / Stable Image)",
                    },
                    notes: new Dictionary<string, string> { ["user"] = "InvokeModel has no end-user field" }), provider);
                break;
            case "fireworks_ai":
                t[LlmMode.Completion] = ModeTables.Of(LlmMode.Completion, VllmCompletion.Where(static p => p != "best_of"), provider);
                t[LlmMode.AudioTranscription] = ModeTables.Of(LlmMode.AudioTranscription, ["language", "prompt", "response_format", "temperature", "timestamp_granularities"], provider,
                    notes: new Dictionary<string, string> { ["language"] = "sent to " + FireworksAudioBase + " unless api_base is set" });
                break;
            case "ollama":
                t[LlmMode.Completion] = ModeTables.Of(LlmMode.Completion, OllamaCompletion, provider);
                break;
            case "mistral":
            case "text-completion-codestral":
                t[LlmMode.Completion] = ModeTables.Of(LlmMode.Completion, FimCompletion, provider,
                    mapped: new Dictionary<string, string> { ["seed"] = "random_seed" },
                    notes: new Dictionary<string, string> { ["suffix"] = "codestral models: /fim/completions" });
                break;
            case "text-completion-openai":
                t[LlmMode.Completion] = ModeTables.AllNative(LlmMode.Completion);
                break;
        }
        return t;
    }

    /// <summary>Gemini TTS models (<c>generateContent</c> with <c>responseModalities: ["AUDIO"]</c>).</summary>
    private static FrozenDictionary<string, ParamRule> GoogleSpeech(string provider) => ModeTables.Rejecting(
        ModeTables.Of(LlmMode.AudioSpeech, ["response_format", "stream_format"], provider,
            mapped: new Dictionary<string, string>
            {
                ["voice"] = "generationConfig.speechConfig.voiceConfig.prebuiltVoiceConfig.voiceName (a Gemini voice: Kore, Puck, …)",
                ["instructions"] = "a style prefix of the spoken text (\"<instructions>: <input>\"), as Gemini TTS takes direction",
            },
            notes: new Dictionary<string, string>
            {
                ["response_format"] = "wav (the default: Gemini's 24 kHz PCM wrapped) or pcm; mp3, opus, aac, flac are a 400 (no encoder)",
                ["stream_format"] = "audio only; sse is a 400",
                ["speed"] = "Gemini TTS has no speaking rate",
            }),
        "Gemini has no such speech setting", []);

    /// <summary>Gemini models that take audio: generateContent with the upload inline and a transcription prompt.</summary>
    private static FrozenDictionary<string, ParamRule> GoogleTranscription(string provider) => ModeTables.Rejecting(
        ModeTables.Of(LlmMode.AudioTranscription, ["response_format"], provider,
            mapped: new Dictionary<string, string>
            {
                ["language"] = "named in the transcription prompt",
                ["prompt"] = "added to the transcription prompt as earlier text",
                ["temperature"] = "generationConfig.temperature",
            },
            notes: new Dictionary<string, string>
            {
                ["response_format"] = "json, text, verbose_json (no segments); srt, vtt, diarized_json are a 400 (Gemini gives no timestamps)",
                ["timestamp_granularities"] = "Gemini gives no timestamps",
            }),
        "LLMux calls generateContent, which answers once; send the request without stream", "stream");

    /// <summary>LiteLLM's rule for <c>/v1/completions</c>: which deployments have a text-completion API of their own.</summary>
    public static CompletionRoute CompletionRouteFor(ProviderSpec spec, Deployment deployment)
    {
        switch (deployment.Setting("completion_api"))
        {
            case "native": return CompletionRoute.Native;
            case "fim": return CompletionRoute.Fim;
            case "bridge": return spec.Modes.Contains(LlmMode.Chat) ? CompletionRoute.Bridge : CompletionRoute.Native;
        }
        if (!spec.Modes.Contains(LlmMode.Completion)) return CompletionRoute.Bridge;
        var model = deployment.UpstreamModel;
        return spec.Name switch
        {
            "openai" or "azure" => IsOpenAITextModel(model) ? CompletionRoute.Native : CompletionRoute.Bridge,
            "mistral" => model.Contains("codestral", StringComparison.OrdinalIgnoreCase) ? CompletionRoute.Fim : CompletionRoute.Bridge,
            "text-completion-codestral" => CompletionRoute.Fim,
            _ => CompletionRoute.Native,
        };
    }

    /// <summary>OpenAI's text-completion models (LiteLLM's <c>open_ai_text_completion_models</c>, fine-tunes of them included).</summary>
    public static bool IsOpenAITextModel(string model)
    {
        var m = model.StartsWith("ft:", StringComparison.Ordinal) ? model[3..] : model;
        return m.Contains("instruct", StringComparison.OrdinalIgnoreCase)
            || m.StartsWith("davinci", StringComparison.Ordinal) || m.StartsWith("babbage", StringComparison.Ordinal)
            || m.StartsWith("text-davinci", StringComparison.Ordinal) || m.StartsWith("text-babbage", StringComparison.Ordinal)
            || m.StartsWith("text-curie", StringComparison.Ordinal) || m.StartsWith("text-ada", StringComparison.Ordinal);
    }
}
