using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Context;

namespace LLMux.Governance;

/// <summary>
/// The <c>call_type</c> a spend row carries, in LiteLLM's vocabulary (its async call names), so that admins'
/// queries over <c>LiteLLM_SpendLogs</c> group by mode as they do on LiteLLM.
/// </summary>
public static class SpendCallTypes
{
    public static string Of(LlmContext context) => context.Mode switch
    {
        LlmMode.Chat => context.ClientProtocol == ClientProtocol.Anthropic ? "anthropic_messages" : "acompletion",
        LlmMode.Embeddings => "aembedding",
        LlmMode.Responses => "aresponses",
        LlmMode.Completion => "atext_completion",
        LlmMode.Rerank => "arerank",
        LlmMode.Moderation => "amoderation",
        LlmMode.Images => "aimage_generation",
        LlmMode.AudioTranscription => "atranscription",
        LlmMode.AudioSpeech => "aspeech",
        LlmMode.Batch => "acreate_batch",
        LlmMode.Realtime => "_arealtime",
        _ => "acompletion",
    };
}
