using System.Text.Json;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Wire;
using LLMux.Providers.Common;

namespace LLMux.Providers.Ollama;

/// <summary>Reads an Ollama <c>/api/chat</c> answer (one JSON object) into an OpenAI chat completion.</summary>
internal static class OllamaResponseReader
{
    public static ChatCompletion Read(ReadOnlySpan<byte> json, string model, long created)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json.ToArray());
        }
        catch (JsonException ex)
        {
            throw new LlmError { Kind = ErrorKind.BadGateway, Provider = OllamaChatSpec.Spec.Name, Message = $"ollama_chat answered with a body that is not valid JSON ({ex.Message})" }.ToException(ex);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.TryGetProperty("error", out var err))
                throw new LlmError { Kind = ErrorKind.ServerError, Provider = OllamaChatSpec.Spec.Name, Message = "ollama_chat: " + (err.ValueKind == JsonValueKind.String ? err.GetString() : err.GetRawText()) }.ToException();
            var message = new ChatMessage { Role = "assistant", Content = JsonString("") };
            if (root.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.Object)
            {
                if (m.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String) message.Content = c.Clone();
                if (m.TryGetProperty("thinking", out var th) && th.ValueKind == JsonValueKind.String && th.GetString() is { Length: > 0 } thinking) message.ReasoningContent = thinking;
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
                    if (message.Content is { ValueKind: JsonValueKind.String } s && s.GetString() == "") message.Content = null;
                }
            }
            var finish = FinishReason(root);
            return new ChatCompletion
            {
                Id = "chatcmpl-" + Guid.NewGuid().ToString("N"),
                Created = created,
                Model = model,
                Choices = [new ChatChoice { Index = 0, Message = message, FinishReason = finish }],
                Usage = Usage(root),
            };
        }
    }

    internal static string FinishReason(JsonElement root) =>
        root.TryGetProperty("done_reason", out var dr) && dr.ValueKind == JsonValueKind.String && dr.GetString() == "length" ? "length" : "stop";

    internal static Usage Usage(JsonElement root)
    {
        long prompt = root.TryGetProperty("prompt_eval_count", out var p) && p.TryGetInt64(out var pv) ? pv : 0;
        long completion = root.TryGetProperty("eval_count", out var e) && e.TryGetInt64(out var ev) ? ev : 0;
        return new Usage { PromptTokens = prompt, CompletionTokens = completion, TotalTokens = prompt + completion };
    }

    private static JsonElement JsonString(string s)
    {
        using var d = JsonDocument.Parse("\"" + JsonEncodedText.Encode(s) + "\"");
        return d.RootElement.Clone();
    }
}
