using System.Text.Json;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Wire;
using LLMux.Providers.Common;

namespace LLMux.Providers.Snowflake;

/// <summary>Reads an <c>inference:complete</c> answer: text from <c>content</c> (or the text items), tool calls from <c>content_list</c>'s <c>tool_use</c> items.</summary>
internal static class SnowflakeResponseReader
{
    public static ChatCompletion Read(ReadOnlySpan<byte> json, string model, long now)
    {
        CortexResponse? answer;
        try
        {
            answer = JsonSerializer.Deserialize(json, SnowflakeJson.Default.CortexResponse);
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
            Model = answer.Model ?? model,
            Usage = Usage(answer.Usage),
        };
        var index = 0;
        foreach (var choice in choices)
        {
            var m = choice.Message ?? new CortexMessage();
            string? text = m.Content;
            List<ToolCall>? calls = null;
            if (m.ContentList is { Count: > 0 } items)
            {
                string? listed = null;
                foreach (var item in items)
                {
                    if (item.Type == "text" && item.Text is { } t) listed += t;
                    else if (item.Type == "tool_use" && item.ToolUse is { } use)
                        (calls ??= []).Add(new ToolCall
                        {
                            Id = string.IsNullOrEmpty(use.ToolUseId) ? ToolCallIds.New() : use.ToolUseId,
                            Type = "function",
                            Function = new FunctionCall { Name = use.Name, Arguments = use.Input.ValueKind == JsonValueKind.Undefined ? "{}" : use.Input.ValueKind == JsonValueKind.String ? use.Input.GetString() : use.Input.GetRawText() },
                        });
                }
                if (string.IsNullOrEmpty(text)) text = listed;
            }
            var message = new ChatMessage { Role = "assistant", Content = text is null ? null : JsonStrings.Element(text), ToolCalls = calls };
            completion.Choices.Add(new ChatChoice { Index = index++, Message = message, FinishReason = SnowflakeFinishReasons.ToOpenAI(choice.FinishReason, calls is not null) });
        }
        return completion;
    }

    internal static Usage Usage(CortexUsage? usage) => usage is null
        ? new Usage()
        : new Usage { PromptTokens = usage.PromptTokens, CompletionTokens = usage.CompletionTokens, TotalTokens = usage.TotalTokens > 0 ? usage.TotalTokens : usage.PromptTokens + usage.CompletionTokens };

    private static LlmException Bad(string what, Exception? inner) =>
        new LlmError { Kind = ErrorKind.BadGateway, Provider = SnowflakeSpec.Name, Message = $"{SnowflakeSpec.Name} answered with {what}" }.ToException(inner);
}

/// <summary>Cortex's finish reasons (when it gives one) in OpenAI's words.</summary>
internal static class SnowflakeFinishReasons
{
    public static string ToOpenAI(string? reason, bool sawToolCall) => reason switch
    {
        "length" or "max_tokens" => "length",
        "tool_use" or "tool_calls" => "tool_calls",
        _ when sawToolCall => "tool_calls",
        _ => "stop",
    };
}
