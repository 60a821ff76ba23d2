using System.Text.Json;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Wire;
using LLMux.Providers.Common;

namespace LLMux.Providers.Watsonx;

/// <summary>Reads a <c>text/chat</c> answer into an OpenAI chat completion.</summary>
internal static class WatsonxResponseReader
{
    public static ChatCompletion Read(ReadOnlySpan<byte> json, string model, long now)
    {
        WatsonxChatResponse? answer;
        try
        {
            answer = JsonSerializer.Deserialize(json, WatsonxJson.Default.WatsonxChatResponse);
        }
        catch (JsonException ex)
        {
            throw Bad($"an answer that is not valid JSON ({ex.Message})", ex);
        }
        if (answer?.Choices is not { Count: > 0 } choices) throw Bad("an answer without choices", null);
        var completion = new ChatCompletion
        {
            Id = string.IsNullOrEmpty(answer.Id) ? "chatcmpl-" + Guid.NewGuid().ToString("N") : answer.Id,
            Created = answer.Created ?? now,
            Model = answer.ModelId ?? answer.Model ?? model,
            Usage = Usage(answer.Usage),
        };
        foreach (var choice in choices)
        {
            var m = choice.Message ?? new WatsonxMessage();
            var message = new ChatMessage { Role = "assistant", Content = m.Content is null ? null : JsonStrings.Element(m.Content), ReasoningContent = m.ReasoningContent };
            if (m.ToolCalls is { Count: > 0 } calls)
            {
                message.ToolCalls = new List<ToolCall>(calls.Count);
                foreach (var call in calls)
                    message.ToolCalls.Add(new ToolCall
                    {
                        Id = string.IsNullOrEmpty(call.Id) ? ToolCallIds.New() : call.Id,
                        Type = "function",
                        Function = new FunctionCall { Name = call.Function?.Name, Arguments = string.IsNullOrEmpty(call.Function?.Arguments) ? "{}" : call.Function!.Arguments },
                    });
            }
            completion.Choices.Add(new ChatChoice { Index = choice.Index, Message = message, FinishReason = WatsonxFinishReasons.ToOpenAI(choice.FinishReason), Logprobs = choice.Logprobs });
        }
        return completion;
    }

    internal static Usage Usage(WatsonxUsage? usage) => usage is null
        ? new Usage()
        : new Usage { PromptTokens = usage.PromptTokens, CompletionTokens = usage.CompletionTokens, TotalTokens = usage.TotalTokens > 0 ? usage.TotalTokens : usage.PromptTokens + usage.CompletionTokens };

    private static LlmException Bad(string what, Exception? inner) =>
        new LlmError { Kind = ErrorKind.BadGateway, Provider = WatsonxSpec.Name, Message = $"{WatsonxSpec.Name} answered with {what}" }.ToException(inner);
}
