using System.Text.Json;
using Microsoft.Extensions.AI;
using Wire = LLMux.Pipeline.Wire;

namespace LLMux.Stages.Hosting;

/// <summary>Turns OpenAI answers (completions and chunks) into M.E.AI types; what M.E.AI does not name stays in AdditionalProperties / RawRepresentation.</summary>
internal static class ChatResponseMapper
{
    public static ChatResponse ToResponse(Wire.ChatCompletion completion)
    {
        var messages = new List<ChatMessage>(completion.Choices.Count);
        ChatFinishReason? finish = null;
        foreach (var choice in completion.Choices)
        {
            var m = choice.Message;
            var contents = new List<AIContent>();
            if (m.ReasoningContent is { Length: > 0 } reasoning) contents.Add(new TextReasoningContent(reasoning));
            if (m.TextContent() is { Length: > 0 } text) contents.Add(new TextContent(text));
            if (m.ToolCalls is { } calls)
            {
                foreach (var call in calls) contents.Add(FunctionCall(call.Id ?? "", call.Function?.Name ?? "", call.Function?.Arguments));
            }
            var message = new ChatMessage(m.Role is { } r ? new ChatRole(r) : ChatRole.Assistant, contents)
            {
                MessageId = completion.Id,
                RawRepresentation = m,
                AuthorName = m.Name,
                CreatedAt = Created(completion.Created),
            };
            if (m.Extra is { Count: > 0 } extra) message.AdditionalProperties = Properties(extra);
            messages.Add(message);
            finish ??= FinishReason(choice.FinishReason);
        }
        var response = new ChatResponse(messages)
        {
            ResponseId = completion.Id,
            ModelId = completion.Model,
            CreatedAt = Created(completion.Created),
            FinishReason = finish,
            Usage = Usage(completion.Usage),
            RawRepresentation = completion,
        };
        if (completion.Extra is { Count: > 0 } || completion.SystemFingerprint is not null)
        {
            var props = completion.Extra is { } e ? Properties(e) : [];
            if (completion.SystemFingerprint is { } fp) props["system_fingerprint"] = fp;
            response.AdditionalProperties = props;
        }
        return response;
    }

    public static FunctionCallContent FunctionCall(string id, string name, string? arguments) =>
        FunctionCallContent.CreateFromParsedArguments(string.IsNullOrEmpty(arguments) ? "{}" : arguments, id, name,
            static json => JsonSerializer.Deserialize(json, AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(Dictionary<string, object?>))) as IDictionary<string, object?>);

    public static ChatFinishReason? FinishReason(string? value) => value switch
    {
        null => null,
        "stop" => ChatFinishReason.Stop,
        "length" => ChatFinishReason.Length,
        "tool_calls" or "function_call" => ChatFinishReason.ToolCalls,
        "content_filter" => ChatFinishReason.ContentFilter,
        _ => new ChatFinishReason(value),
    };

    public static UsageDetails? Usage(Wire.Usage? u)
    {
        if (u is null) return null;
        var details = new UsageDetails
        {
            InputTokenCount = u.PromptTokens,
            OutputTokenCount = u.CompletionTokens,
            TotalTokenCount = u.TotalTokens,
        };
        if (u.PromptTokensDetails?.CachedTokens is { } cached) details.CachedInputTokenCount = cached;
        if (u.CompletionTokensDetails?.ReasoningTokens is { } reasoning) details.ReasoningTokenCount = reasoning;
        if (u.PromptTokensDetails?.CacheCreationTokens is { } created) (details.AdditionalCounts ??= [])["cache_creation_tokens"] = created;
        return details;
    }

    public static DateTimeOffset? Created(long seconds) => seconds > 0 ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null;

    public static AdditionalPropertiesDictionary Properties(Dictionary<string, JsonElement> extra)
    {
        var props = new AdditionalPropertiesDictionary();
        foreach (var (k, v) in extra) props[k] = v;
        return props;
    }
}
