using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Wire;

namespace LLMux.Providers.Bedrock;

/// <summary>
/// Reads a Converse answer into an OpenAI chat completion: text blocks concatenated, <c>toolUse</c> as tool calls
/// (with the client's tool names), <c>reasoningContent</c> as <c>reasoning_content</c> + <c>thinking_blocks</c>,
/// stopReason and usage mapped; in JSON mode the forced <c>json_tool_call</c> input becomes the content.
/// </summary>
internal static class ConverseResponseReader
{
    public static ChatCompletion Read(ReadOnlySpan<byte> body, LlmContext context, string model, bool jsonMode)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body.ToArray());
        }
        catch (JsonException ex)
        {
            throw new LlmError { Kind = ErrorKind.BadGateway, Provider = "bedrock", Message = $"bedrock answered with a body that is not valid JSON ({ex.Message})" }.ToException(ex);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("output", out var output) || !output.TryGetProperty("message", out var message))
                throw new LlmError { Kind = ErrorKind.BadGateway, Provider = "bedrock", Message = "bedrock answered without output.message; the answer is not a Converse response" }.ToException();

            StringBuilder? text = null;
            StringBuilder? reasoning = null;
            List<ToolCall>? calls = null;
            var thinkingBlocks = new List<(string? Text, string? Signature, string? Redacted)>();
            string? jsonContent = null;
            if (message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array)
            {
                var index = 0;
                foreach (var block in content.EnumerateArray())
                {
                    if (block.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String)
                    {
                        (text ??= new StringBuilder()).Append(t.GetString());
                    }
                    else if (block.TryGetProperty("toolUse", out var tu))
                    {
                        var name = tu.TryGetProperty("name", out var n) ? n.GetString() ?? "" : "";
                        var args = tu.TryGetProperty("input", out var input) ? input.GetRawText() : "{}";
                        if (jsonMode && name == ConverseRequestWriter.JsonToolName)
                        {
                            jsonContent = UnwrapProperties(input, args);
                            continue;
                        }
                        (calls ??= []).Add(new ToolCall
                        {
                            Id = tu.TryGetProperty("toolUseId", out var id) ? id.GetString() : null,
                            Type = "function",
                            Index = index++,
                            Function = new FunctionCall { Name = BedrockToolNames.Original(context.Chat, name), Arguments = args },
                        });
                    }
                    else if (block.TryGetProperty("reasoningContent", out var rc))
                    {
                        if (rc.TryGetProperty("reasoningText", out var rt))
                        {
                            var rtext = rt.TryGetProperty("text", out var x) ? x.GetString() : null;
                            (reasoning ??= new StringBuilder()).Append(rtext);
                            thinkingBlocks.Add((rtext, rt.TryGetProperty("signature", out var s) ? s.GetString() : null, null));
                        }
                        else if (rc.TryGetProperty("redactedContent", out var red))
                        {
                            thinkingBlocks.Add((null, null, red.GetString()));
                        }
                    }
                }
            }

            var stopReason = root.TryGetProperty("stopReason", out var sr) ? sr.GetString() : null;
            var finish = ConverseStopReasons.ToFinishReason(stopReason);
            var messageText = jsonContent ?? text?.ToString();
            if (jsonContent is null && messageText is not null && SplitThinking(messageText) is { } split)
            {
                (reasoning ??= new StringBuilder()).Append(split.Reasoning);
                messageText = split.Answer;
            }
            if (jsonContent is not null && finish == "tool_calls" && calls is null) finish = "stop";

            var chatMessage = new ChatMessage
            {
                Role = "assistant",
                Content = messageText is null ? null : JsonValues.String(messageText),
                ToolCalls = calls,
                ReasoningContent = reasoning?.ToString(),
                ThinkingBlocks = thinkingBlocks.Count == 0 ? null : ThinkingBlocksJson(thinkingBlocks),
            };
            Usage? usage = null;
            if (root.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object)
            {
                var bytes = Encoding.UTF8.GetBytes(u.GetRawText());
                var reader = new Utf8JsonReader(bytes);
                reader.Read();
                usage = ConverseUsage.Read(ref reader);
            }
            return new ChatCompletion
            {
                Id = "chatcmpl-" + Guid.NewGuid().ToString("N"),
                Created = context.TimeProvider.GetUtcNow().ToUnixTimeSeconds(),
                Model = model,
                Choices = [new ChatChoice { Index = 0, Message = chatMessage, FinishReason = finish }],
                Usage = usage ?? new Usage(),
            };
        }
    }

    /// <summary>A leading <c>&lt;think&gt;</c> / <c>&lt;thinking&gt;</c> section (DeepSeek R1, Llama) is reasoning, as LiteLLM splits it.</summary>
    internal static (string Reasoning, string Answer)? SplitThinking(string text)
    {
        var trimmed = text.AsSpan().TrimStart();
        foreach (var (open, close) in ThinkTags)
        {
            if (!trimmed.StartsWith(open, StringComparison.Ordinal)) continue;
            var rest = trimmed[open.Length..];
            var end = rest.IndexOf(close, StringComparison.Ordinal);
            if (end < 0) return null;
            return (rest[..end].Trim().ToString(), rest[(end + close.Length)..].TrimStart().ToString());
        }
        return null;
    }

    private static readonly (string Open, string Close)[] ThinkTags = [("<thinking>", "</thinking>"), ("<think>", "</think>"), ("<budget:thinking>", "</budget:thinking>")];

    /// <summary>LiteLLM unwraps a lone top-level <c>properties</c> object that some models wrap their JSON in.</summary>
    private static string UnwrapProperties(JsonElement input, string raw)
    {
        if (input.ValueKind == JsonValueKind.Object)
        {
            var count = 0;
            JsonElement inner = default;
            foreach (var p in input.EnumerateObject())
            {
                count++;
                if (p.NameEquals("properties")) inner = p.Value;
            }
            if (count == 1 && inner.ValueKind == JsonValueKind.Object) return inner.GetRawText();
        }
        return raw;
    }

    private static JsonElement ThinkingBlocksJson(List<(string? Text, string? Signature, string? Redacted)> blocks) =>
        JsonValues.Build(blocks, static (w, list) =>
        {
            w.WriteStartArray();
            foreach (var (text, signature, redacted) in list)
            {
                w.WriteStartObject();
                if (redacted is not null)
                {
                    w.WriteString("type"u8, "redacted_thinking"u8);
                    w.WriteString("data"u8, redacted);
                }
                else
                {
                    w.WriteString("type"u8, "thinking"u8);
                    w.WriteString("thinking"u8, text);
                    if (signature is not null) w.WriteString("signature"u8, signature);
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
        });
}
