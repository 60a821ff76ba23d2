using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Wire;

namespace LLMux.Providers.Replicate;

/// <summary>An OpenAI chat request → Replicate's create-prediction body (LiteLLM's ReplicateConfig.map_openai_params and transform_request).</summary>
internal static class ReplicateRequestWriter
{
    public static ReplicateCreatePrediction Build(LlmContext context, ReplicateModelRef target)
    {
        var deployment = context.Deployment!;
        var r = context.Chat!;
        var model = deployment.UpstreamModel;
        IReadOnlyList<ChatMessage> messages = r.Messages!;
        string? systemPrompt = null;
        // `supports_system_prompt: true` sends the first system message as the model's system_prompt input.
        if (deployment.Setting("supports_system_prompt") is "true" or "True")
        {
            for (var i = 0; i < messages.Count; i++)
            {
                if (messages[i].Role is not ("system" or "developer")) continue;
                systemPrompt = messages[i].TextContent();
                var rest = new List<ChatMessage>(messages);
                rest.RemoveAt(i);
                messages = rest;
                break;
            }
        }
        var maxTokens = Keep(context, "max_completion_tokens") && r.MaxCompletionTokens is { } mct ? mct : Keep(context, "max_tokens") ? r.MaxTokens : null;
        var lower = model.ToLowerInvariant();
        var lengthKey = lower.Contains("vicuna", StringComparison.Ordinal) || lower.Contains("flan", StringComparison.Ordinal) ? 1
            : lower.Contains("meta/codellama-13b", StringComparison.Ordinal) ? 2 : 0;
        var input = new ReplicateInput
        {
            Prompt = ReplicatePrompt.Build(model, messages),
            SystemPrompt = systemPrompt,
            MaxNewTokens = lengthKey == 0 ? maxTokens : null,
            MaxLength = lengthKey == 1 ? maxTokens : null,
            MaxTokens = lengthKey == 2 ? maxTokens : null,
            Temperature = Keep(context, "temperature") ? r.Temperature : null,
            TopP = Keep(context, "top_p") ? r.TopP : null,
            TopK = Keep(context, "top_k") && r.Extra is { } extra && extra.TryGetValue("top_k", out var k) && k.ValueKind == JsonValueKind.Number && k.TryGetInt32(out var kv) ? kv : null,
            StopSequences = Keep(context, "stop") && r.StopSequences() is { Count: > 0 } stops ? string.Join(',', stops) : null,
            Seed = Keep(context, "seed") ? r.Seed : null,
        };
        return new ReplicateCreatePrediction { Version = target.Version, Input = input, Stream = r.IsStream ? true : null };
    }

    private static bool Keep(LlmContext context, string param) => !context.IsDropped(param);
}
