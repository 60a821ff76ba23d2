namespace LLMux.Pipeline.Capabilities;

/// <summary>The kinds of call a provider may serve (LiteLLM's modes).</summary>
public enum LlmMode
{
    Chat,
    Embeddings,
    AudioTranscription,
    AudioSpeech,
    Images,
    Batch,
    Realtime,
    Responses,
    Rerank,
    Moderation,
    /// <summary>Legacy text completions (<c>/v1/completions</c>), FIM included.</summary>
    Completion,
}

public static class LlmModeNames
{
    public static string Name(this LlmMode mode) => mode switch
    {
        LlmMode.Chat => "chat",
        LlmMode.Embeddings => "embeddings",
        LlmMode.AudioTranscription => "audio_transcription",
        LlmMode.AudioSpeech => "audio_speech",
        LlmMode.Images => "images",
        LlmMode.Batch => "batch",
        LlmMode.Realtime => "realtime",
        LlmMode.Responses => "responses",
        LlmMode.Rerank => "rerank",
        LlmMode.Moderation => "moderation",
        LlmMode.Completion => "completion",
        _ => mode.ToString().ToLowerInvariant(),
    };
}
