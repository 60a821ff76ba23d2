using System.Buffers;
using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;
using LLMux.Pipeline.Wire;

namespace LLMux.Providers.Anthropic;

/// <summary>Reads an Anthropic Messages answer into an OpenAI chat completion (LiteLLM's transform_parsed_response).</summary>
internal static class AnthropicResponseReader
{
    public static ChatCompletion Read(ReadOnlyMemory<byte> body, long created, bool jsonTool)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            throw new LlmError { Kind = ErrorKind.BadGateway, Provider = "anthropic", Message = $"anthropic answered with a body that is not valid JSON ({ex.Message})" }.ToException(ex);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.Array)
            {
                throw new LlmError { Kind = ErrorKind.BadGateway, Provider = "anthropic", Message = "anthropic answered without a `content` array; the answer cannot be read" }.ToException();
            }
            StringBuilder? text = null;
            StringBuilder? reasoning = null;
            List<ToolCall>? calls = null;
            var thinkingBlocks = new ArrayBufferWriter<byte>(256);
            var thinkingCount = 0;
            using (var tw = new Utf8JsonWriter(thinkingBlocks, JsonOut.Options))
            {
                tw.WriteStartArray();
                var index = 0;
                foreach (var block in content.EnumerateArray())
                {
                    var type = block.TryGetProperty("type", out var t) ? t.GetString() : null;
                    switch (type)
                    {
                        case "text":
                            (text ??= new StringBuilder()).Append(block.GetProperty("text").GetString());
                            break;
                        case "tool_use":
                        case "server_tool_use":
                            calls ??= [];
                            calls.Add(new ToolCall
                            {
                                Id = block.GetProperty("id").GetString(),
                                Type = "function",
                                Index = index,
                                Function = new FunctionCall
                                {
                                    Name = block.GetProperty("name").GetString(),
                                    Arguments = block.TryGetProperty("input", out var input) ? input.GetRawText() : "{}",
                                },
                            });
                            break;
                        case "thinking":
                            if (block.TryGetProperty("thinking", out var th)) (reasoning ??= new StringBuilder()).Append(th.GetString());
                            block.WriteTo(tw);
                            thinkingCount++;
                            break;
                        case "redacted_thinking":
                            block.WriteTo(tw);
                            thinkingCount++;
                            break;
                    }
                    index++;
                }
                tw.WriteEndArray();
            }

            var message = new ChatMessage { Role = "assistant" };
            var finish = FinishReason(root.TryGetProperty("stop_reason", out var sr) && sr.ValueKind == JsonValueKind.String ? sr.GetString() : null);
            if (jsonTool && calls is { Count: 1 } && calls[0].Function!.Name == AnthropicRequestWriter.JsonToolName)
            {
                // The forced json tool carries the answer: it becomes the text content, as LiteLLM does.
                message.Content = StringElement(JsonToolContent(calls[0].Function!.Arguments!));
                calls = null;
                finish = "stop";
            }
            else
            {
                message.Content = text is null ? null : StringElement(text.ToString());
            }
            message.ToolCalls = calls;
            if (reasoning is not null) message.ReasoningContent = reasoning.ToString();
            if (thinkingCount > 0)
            {
                using var blocks = JsonDocument.Parse(thinkingBlocks.WrittenMemory);
                message.ThinkingBlocks = blocks.RootElement.Clone();
            }

            return new ChatCompletion
            {
                Id = root.TryGetProperty("id", out var id) ? id.GetString() ?? "" : "",
                Created = created,
                Model = root.TryGetProperty("model", out var model) ? model.GetString() ?? "" : "",
                Choices = [new ChatChoice { Index = 0, Message = message, FinishReason = finish }],
                Usage = root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object ? ReadUsage(usage) : null,
            };
        }
    }

    /// <summary>LiteLLM's map_finish_reason, with <c>refusal</c> as OpenAI's <c>content_filter</c> (a value OpenAI clients know).</summary>
    public static string FinishReason(string? stopReason) => stopReason switch
    {
        null or "end_turn" or "stop_sequence" or "pause_turn" => "stop",
        "max_tokens" or "compaction" or "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        _ => stopReason,
    };

    private static string JsonToolContent(string arguments)
    {
        try
        {
            using var doc = JsonDocument.Parse(arguments);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("values", out var values)) return values.GetRawText();
        }
        catch (JsonException) { }
        return arguments;
    }

    /// <summary>Anthropic usage in OpenAI's shape: prompt tokens include cache writes and reads.</summary>
    public static Usage ReadUsage(JsonElement usage)
    {
        var input = Long(usage, "input_tokens");
        var output = Long(usage, "output_tokens");
        var cacheCreation = Long(usage, "cache_creation_input_tokens");
        var cacheRead = Long(usage, "cache_read_input_tokens");
        return Build(input, output, cacheCreation, cacheRead);
    }

    public static Usage Build(long input, long output, long cacheCreation, long cacheRead)
    {
        var prompt = input + cacheCreation + cacheRead;
        return new Usage
        {
            PromptTokens = prompt,
            CompletionTokens = output,
            TotalTokens = prompt + output,
            PromptTokensDetails = new PromptTokensDetails { CachedTokens = cacheRead, CacheCreationTokens = cacheCreation },
            Extra = new Dictionary<string, JsonElement>(StringComparer.Ordinal)
            {
                ["cache_creation_input_tokens"] = NumberElement(cacheCreation),
                ["cache_read_input_tokens"] = NumberElement(cacheRead),
            },
        };
    }

    private static long Long(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : 0;

    private static JsonElement StringElement(string value)
    {
        var buffer = new ArrayBufferWriter<byte>(value.Length + 16);
        using (var w = new Utf8JsonWriter(buffer, JsonOut.Options)) w.WriteStringValue(value);
        using var doc = JsonDocument.Parse(buffer.WrittenMemory);
        return doc.RootElement.Clone();
    }

    private static JsonElement NumberElement(long value)
    {
        var buffer = new ArrayBufferWriter<byte>(24);
        using (var w = new Utf8JsonWriter(buffer)) w.WriteNumberValue(value);
        using var doc = JsonDocument.Parse(buffer.WrittenMemory);
        return doc.RootElement.Clone();
    }
}
