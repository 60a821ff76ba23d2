using System.Text.Json;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Wire;

namespace LLMux.Providers.Oci;

/// <summary>OCI's answers (ChatResult, GENERIC or COHERE) → OpenAI's chat completion, usage and finish reasons.</summary>
internal static class OciAnswers
{
    public static ChatCompletion Read(ReadOnlySpan<byte> body, string model, long now)
    {
        OciChatResult? result;
        try
        {
            result = JsonSerializer.Deserialize(body, OciJson.Default.OciChatResult);
        }
        catch (JsonException ex)
        {
            throw new LlmError { Kind = ErrorKind.BadGateway, Provider = OciSpec.Name, Message = $"{OciSpec.Name} answered with a body that is not a ChatResult ({ex.Message})" }.ToException(ex);
        }
        var response = result?.ChatResponse
            ?? throw new LlmError { Kind = ErrorKind.BadGateway, Provider = OciSpec.Name, Message = $"{OciSpec.Name} answered without a chatResponse" }.ToException();
        var completion = new ChatCompletion
        {
            Id = "chatcmpl-" + Guid.NewGuid().ToString("N"),
            Created = response.TimeCreated?.ToUnixTimeSeconds() ?? now,
            Model = result!.ModelId ?? model,
            Usage = Usage(response.Usage),
        };
        if (response.ApiFormat == "COHERE")
        {
            var message = new ChatMessage { Role = "assistant", Content = JsonString(response.Text ?? "") };
            if (response.ToolCalls is { Count: > 0 } calls)
            {
                message.ToolCalls = [];
                foreach (var c in calls)
                    message.ToolCalls.Add(new ToolCall { Type = "function", Function = new FunctionCall { Name = c.Name, Arguments = c.Parameters?.GetRawText() ?? "{}" } });
            }
            completion.Choices.Add(new ChatChoice { Index = 0, Message = message, FinishReason = FinishReason(response.FinishReason) });
            return completion;
        }
        foreach (var choice in response.Choices ?? [])
        {
            var message = new ChatMessage { Role = "assistant" };
            var text = Text(choice.Message?.Content);
            message.Content = text is null ? null : JsonString(text);
            if (choice.Message?.ToolCalls is { Count: > 0 } calls)
            {
                message.ToolCalls = [];
                foreach (var c in calls)
                    message.ToolCalls.Add(new ToolCall { Id = c.Id, Type = "function", Function = new FunctionCall { Name = c.Name, Arguments = c.Arguments ?? "{}" } });
            }
            completion.Choices.Add(new ChatChoice { Index = choice.Index, Message = message, FinishReason = FinishReason(choice.FinishReason) });
        }
        return completion;
    }

    /// <summary>The TEXT parts joined; null when there are none (a tool-call-only message).</summary>
    public static string? Text(List<OciContent>? content)
    {
        if (content is null) return null;
        string? text = null;
        foreach (var part in content)
            if (part.Type == "TEXT" && part.Text is { } t) text = text is null ? t : text + t;
        return text;
    }

    public static Usage? Usage(OciUsage? u)
    {
        if (u is null) return null;
        return new Usage
        {
            PromptTokens = u.PromptTokens,
            CompletionTokens = u.CompletionTokens,
            TotalTokens = u.TotalTokens == 0 ? u.PromptTokens + u.CompletionTokens : u.TotalTokens,
            PromptTokensDetails = u.PromptTokensDetails?.CachedTokens is { } cached ? new PromptTokensDetails { CachedTokens = cached } : null,
            CompletionTokensDetails = u.CompletionTokensDetails?.ReasoningTokens is { } reasoning ? new CompletionTokensDetails { ReasoningTokens = reasoning } : null,
        };
    }

    /// <summary>GENERIC answers OpenAI's reasons (some vendors in capitals); COHERE answers COMPLETE, MAX_TOKENS, ERROR_TOXIC, ...</summary>
    public static string FinishReason(string? reason) => reason?.ToLowerInvariant() switch
    {
        null or "stop" or "complete" or "end_turn" => "stop",
        "length" or "max_tokens" or "error_limit" => "length",
        "tool_calls" or "tool_call" => "tool_calls",
        "content_filter" or "error_toxic" => "content_filter",
        _ => "stop",
    };

    private static JsonElement JsonString(string s)
    {
        using var d = JsonDocument.Parse("\"" + JsonEncodedText.Encode(s, System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping) + "\"");
        return d.RootElement.Clone();
    }
}
