using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Wire;
using LLMux.Providers.Common;

namespace LLMux.Providers.Gemini;

/// <summary>
/// A Gemini <c>GenerateContentResponse</c> → an OpenAI chat completion: candidates → choices, thought parts →
/// reasoning, function calls → tool calls with synthesised ids, LiteLLM's finish-reason and blocking rules.
/// </summary>
internal static class GeminiResponseReader
{
    public static ChatCompletion Read(ReadOnlySpan<byte> body, string provider, string model, long created)
    {
        JsonDocument doc;
        try
        {
            var reader = new Utf8JsonReader(body);
            doc = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException ex)
        {
            throw new LlmError { Kind = ErrorKind.BadGateway, Provider = provider, Message = $"{provider} answered with a body that is not valid JSON ({ex.Message})" }.ToException(ex);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new LlmError { Kind = ErrorKind.BadGateway, Provider = provider, Message = $"{provider} answered with JSON that is not a GenerateContentResponse object" }.ToException();
            var completion = new ChatCompletion
            {
                Id = Str(root, "responseId") ?? "chatcmpl-" + Guid.NewGuid().ToString("N"),
                Created = created,
                Model = model,
                Usage = ReadUsage(root),
            };
            if (IsBlocked(root))
            {
                completion.Choices.Add(new ChatChoice { Index = 0, Message = new ChatMessage { Role = "assistant" }, FinishReason = "content_filter" });
                return completion;
            }
            if (root.TryGetProperty("candidates", out var candidates) && candidates.ValueKind == JsonValueKind.Array)
            {
                var i = 0;
                foreach (var candidate in candidates.EnumerateArray())
                {
                    completion.Choices.Add(ReadChoice(candidate, i++));
                }
            }
            if (completion.Choices.Count == 0)
                throw new LlmError { Kind = ErrorKind.BadGateway, Provider = provider, Message = $"{provider} answered without candidates or a block reason" }.ToException();
            return completion;
        }
    }

    private static bool IsBlocked(JsonElement root)
    {
        if (root.TryGetProperty("promptFeedback", out var feedback) && feedback.ValueKind == JsonValueKind.Object
            && feedback.TryGetProperty("blockReason", out var br) && br.ValueKind == JsonValueKind.String) return true;
        if (root.TryGetProperty("candidates", out var c) && c.ValueKind == JsonValueKind.Array && c.GetArrayLength() > 0)
            return GeminiFinishReasons.Blocks(Str(c[0], "finishReason"));
        return false;
    }

    private static Usage ReadUsage(JsonElement root)
    {
        if (!root.TryGetProperty("usageMetadata", out var meta) || meta.ValueKind != JsonValueKind.Object) return new GeminiUsage().ToUsage();
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(meta.GetRawText()));
        reader.Read();
        return GeminiUsage.Read(ref reader).ToUsage();
    }

    private static ChatChoice ReadChoice(JsonElement candidate, int position)
    {
        var message = new ChatMessage { Role = "assistant" };
        StringBuilder? text = null, reasoning = null;
        List<string>? images = null;
        string? thoughtSignature = null;
        if (candidate.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Object
            && content.TryGetProperty("parts", out var parts) && parts.ValueKind == JsonValueKind.Array)
        {
            foreach (var part in parts.EnumerateArray())
            {
                if (part.ValueKind != JsonValueKind.Object) continue;
                var signature = Str(part, "thoughtSignature");
                if (part.TryGetProperty("functionCall", out var fc) && fc.ValueKind == JsonValueKind.Object)
                {
                    var id = Str(fc, "id") ?? ToolCallIds.New();
                    if (signature is not null) id += GeminiContentsWriter.ThoughtSeparator + signature;
                    message.ToolCalls ??= [];
                    message.ToolCalls.Add(new ToolCall
                    {
                        Id = id,
                        Type = "function",
                        Index = message.ToolCalls.Count,
                        Function = new FunctionCall { Name = Str(fc, "name") ?? "", Arguments = fc.TryGetProperty("args", out var args) ? Compact(args) : "{}" },
                    });
                    continue;
                }
                if (part.TryGetProperty("inlineData", out var inline) && inline.ValueKind == JsonValueKind.Object)
                {
                    var mime = Str(inline, "mimeType") ?? "application/octet-stream";
                    var uri = "data:" + mime + ";base64," + Str(inline, "data");
                    if (mime.StartsWith("image/", StringComparison.Ordinal))
                    {
                        images ??= [];
                        images.Add(uri);
                    }
                    else (text ??= new StringBuilder()).Append(uri);
                    continue;
                }
                if (Str(part, "text") is not { } t) continue;
                if (part.TryGetProperty("thought", out var thought) && thought.ValueKind == JsonValueKind.True)
                {
                    (reasoning ??= new StringBuilder()).Append(t);
                    thoughtSignature ??= signature;
                }
                else (text ??= new StringBuilder()).Append(t);
            }
        }
        if (text is not null) message.Content = Element(static (w, s) => w.WriteStringValue(s), text.ToString());
        if (reasoning is not null)
        {
            message.ReasoningContent = reasoning.ToString();
            message.ThinkingBlocks = Element(static (w, s) =>
            {
                w.WriteStartArray();
                w.WriteStartObject();
                w.WriteString("type"u8, "thinking"u8);
                w.WriteString("thinking"u8, s.Text);
                if (s.Signature is not null) w.WriteString("signature"u8, s.Signature);
                w.WriteEndObject();
                w.WriteEndArray();
            }, (Text: message.ReasoningContent, Signature: thoughtSignature));
        }
        if (images is not null)
        {
            (message.Extra ??= [])["images"] = Element(static (w, list) =>
            {
                w.WriteStartArray();
                foreach (var uri in list)
                {
                    w.WriteStartObject();
                    w.WriteString("type"u8, "image_url"u8);
                    w.WriteStartObject("image_url"u8);
                    w.WriteString("url"u8, uri);
                    w.WriteEndObject();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }, images);
        }
        var index = candidate.TryGetProperty("index", out var ix) && ix.TryGetInt32(out var iv) ? iv : position;
        var finish = message.ToolCalls is { Count: > 0 } ? "tool_calls" : GeminiFinishReasons.Map(Str(candidate, "finishReason"));
        return new ChatChoice { Index = index, Message = message, FinishReason = finish };
    }

    private static JsonElement Element<T>(Action<Utf8JsonWriter, T> write, T state)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, Pipeline.Json.JsonOut.Options)) write(w, state);
        using var doc = JsonDocument.Parse(buffer.WrittenMemory);
        return doc.RootElement.Clone();
    }

    /// <summary>Arguments as compact JSON with non-ASCII kept (LiteLLM: ensure_ascii=False).</summary>
    private static string Compact(JsonElement args)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, Pipeline.Json.JsonOut.Options)) args.WriteTo(w);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
