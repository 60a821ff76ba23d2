using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Json;
using LLMux.Pipeline.Wire;

namespace LLMux.Providers.Common;

/// <summary>Finishes a translated non-stream answer: LiteLLM's finish-reason and tool-call-id rules, then the OpenAI wire bytes.</summary>
public static class ChatCompletionResponse
{
    public static void Write(LlmContext context, ChatCompletion completion)
    {
        foreach (var choice in completion.Choices)
        {
            if (choice.Message.ToolCalls is { Count: > 0 } calls)
            {
                foreach (var call in calls)
                {
                    if (string.IsNullOrEmpty(call.Id)) call.Id = ToolCallIds.New();
                    call.Type ??= "function";
                }
                if (choice.FinishReason is null or "stop") choice.FinishReason = "tool_calls";
            }
        }
        if (completion.Usage is { } u && u.TotalTokens == 0) u.TotalTokens = u.PromptTokens + u.CompletionTokens;
        var buffer = new PooledBuffer(1024);
        using (var w = new Utf8JsonWriter(buffer, JsonOut.Options))
        {
            JsonSerializer.Serialize(w, completion, WireJson.Default.ChatCompletion);
        }
        context.ResponseBody?.Dispose();
        context.ResponseBody = buffer;
        context.Usage = completion.Usage;
    }

    public static void Write(LlmContext context, EmbeddingResponse response)
    {
        var buffer = new PooledBuffer(1024);
        using (var w = new Utf8JsonWriter(buffer, JsonOut.Options))
        {
            JsonSerializer.Serialize(w, response, WireJson.Default.EmbeddingResponse);
        }
        context.ResponseBody?.Dispose();
        context.ResponseBody = buffer;
        context.Usage = response.Usage;
    }
}
