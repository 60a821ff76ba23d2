using System.Text.Json;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Wire;
using LLMux.Providers.Common;

namespace LLMux.Providers.Cohere;

/// <summary>Reads a Cohere <c>/v2/chat</c> answer into an OpenAI chat completion.</summary>
internal static class CohereResponseReader
{
    public static ChatCompletion Read(ReadOnlySpan<byte> json, string model, long created)
    {
        JsonDocument doc;
        try
        {
            var reader = new Utf8JsonReader(json);
            doc = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException ex)
        {
            throw new LlmError { Kind = ErrorKind.BadGateway, Provider = CohereSpec.Spec.Name, Message = $"cohere answered with a body that is not valid JSON ({ex.Message})" }.ToException(ex);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("message", out var m) || m.ValueKind != JsonValueKind.Object)
                throw new LlmError { Kind = ErrorKind.BadGateway, Provider = CohereSpec.Spec.Name, Message = "cohere answered without a `message` object" }.ToException();
            string? text = null;
            if (m.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array)
            {
                foreach (var part in content.EnumerateArray())
                {
                    if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String)
                        text = text is null ? t.GetString() : text + t.GetString();
                }
            }
            var message = new ChatMessage { Role = "assistant" };
            if (m.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array && calls.GetArrayLength() > 0)
            {
                message.ToolCalls = [];
                foreach (var call in calls.EnumerateArray())
                {
                    if (!call.TryGetProperty("function", out var f)) continue;
                    message.ToolCalls.Add(new ToolCall
                    {
                        Id = call.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : ToolCallIds.New(),
                        Type = "function",
                        Function = new FunctionCall
                        {
                            Name = f.TryGetProperty("name", out var n) ? n.GetString() : null,
                            Arguments = f.TryGetProperty("arguments", out var a) ? (a.ValueKind == JsonValueKind.String ? a.GetString() : a.GetRawText()) : "{}",
                        },
                    });
                }
            }
            message.Content = text is null ? null : JsonString(text);
            var finish = CohereFinishReasons.ToOpenAI(root.TryGetProperty("finish_reason", out var fr) && fr.ValueKind == JsonValueKind.String ? fr.GetString() : null);
            if (message.ToolCalls is { Count: > 0 } && finish == "stop") finish = "tool_calls";
            return new ChatCompletion
            {
                Id = root.TryGetProperty("id", out var rid) && rid.ValueKind == JsonValueKind.String ? "chatcmpl-" + rid.GetString() : "chatcmpl-" + Guid.NewGuid().ToString("N"),
                Created = created,
                Model = model,
                Choices = [new ChatChoice { Index = 0, Message = message, FinishReason = finish }],
                Usage = root.TryGetProperty("usage", out var u) ? Usage(u) : new Usage(),
            };
        }
    }

    /// <summary><c>usage.tokens</c> (what the model saw), falling back to <c>billed_units</c>.</summary>
    internal static Usage Usage(JsonElement usage)
    {
        long prompt = 0, completion = 0;
        if (usage.ValueKind == JsonValueKind.Object)
        {
            var holder = usage.TryGetProperty("tokens", out var tk) && tk.ValueKind == JsonValueKind.Object ? tk
                : usage.TryGetProperty("billed_units", out var bu) && bu.ValueKind == JsonValueKind.Object ? bu : default;
            if (holder.ValueKind == JsonValueKind.Object)
            {
                if (holder.TryGetProperty("input_tokens", out var i) && i.ValueKind == JsonValueKind.Number) prompt = (long)i.GetDouble();
                if (holder.TryGetProperty("output_tokens", out var o) && o.ValueKind == JsonValueKind.Number) completion = (long)o.GetDouble();
            }
        }
        return new Usage { PromptTokens = prompt, CompletionTokens = completion, TotalTokens = prompt + completion };
    }

    private static JsonElement JsonString(string s)
    {
        using var d = JsonDocument.Parse("\"" + JsonEncodedText.Encode(s, System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping) + "\"");
        return d.RootElement.Clone();
    }
}
