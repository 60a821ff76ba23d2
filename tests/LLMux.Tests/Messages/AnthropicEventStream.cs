using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Providers.OpenAI;
using LLMux.Stages.Messages;

namespace LLMux.Tests.Messages;

/// <summary>One Anthropic SSE event as a client reads it.</summary>
internal sealed record AnthropicEvent(string Name, JsonObject Data);

/// <summary>A block rebuilt from the events, as an SDK's accumulator would.</summary>
internal sealed record RebuiltBlock(string Type, string Text, string Signature, string? Id, string? Name);

/// <summary>Feeds OpenAI SSE bytes through <see cref="AnthropicEventTranslator"/> (over the OpenAI passthrough) and checks what comes out.</summary>
internal static class AnthropicEventStream
{
    public static (List<AnthropicEvent> Events, LlmException? Error) Translate(byte[] upstream, int chunkSize)
    {
        var output = new ArrayBufferWriter<byte>();
        LlmException? error = null;
        using var translator = new AnthropicEventTranslator(new OpenAIStreamPassthrough(new LlmContext(), "openai"), "requested-model", "openai");
        try
        {
            var pending = Array.Empty<byte>();
            for (var pos = 0; pos < upstream.Length; pos += chunkSize)
            {
                pending = [.. pending, .. upstream.AsSpan(pos, Math.Min(chunkSize, upstream.Length - pos))];
                var seq = new ReadOnlySequence<byte>(pending);
                translator.Decode(ref seq, output);
                pending = seq.ToArray();
            }
            translator.Complete(new ReadOnlySequence<byte>(pending), output);
        }
        catch (LlmException ex)
        {
            error = ex;
        }
        return (Parse(Encoding.UTF8.GetString(output.WrittenSpan)), error);
    }

    /// <summary>Splits at one byte position (0 and the length included).</summary>
    public static (List<AnthropicEvent> Events, LlmException? Error) TranslateSplitAt(byte[] upstream, int split)
    {
        var output = new ArrayBufferWriter<byte>();
        LlmException? error = null;
        using var translator = new AnthropicEventTranslator(new OpenAIStreamPassthrough(new LlmContext(), "openai"), "requested-model", "openai");
        try
        {
            var first = new ReadOnlySequence<byte>(upstream.AsMemory(0, split));
            translator.Decode(ref first, output);
            byte[] rest = [.. first.ToArray(), .. upstream.AsSpan(split)];
            var second = new ReadOnlySequence<byte>(rest);
            translator.Decode(ref second, output);
            translator.Complete(second, output);
        }
        catch (LlmException ex)
        {
            error = ex;
        }
        return (Parse(Encoding.UTF8.GetString(output.WrittenSpan)), error);
    }

    public static List<AnthropicEvent> Parse(string sse)
    {
        var events = new List<AnthropicEvent>();
        foreach (var frame in sse.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var lines = frame.Split('\n');
            Assert.Equal(2, lines.Length);
            Assert.StartsWith("event: ", lines[0]);
            Assert.StartsWith("data: ", lines[1]);
            var data = JsonNode.Parse(lines[1]["data: ".Length..])!.AsObject();
            events.Add(new AnthropicEvent(lines[0]["event: ".Length..], data));
        }
        return events;
    }

    /// <summary>Asserts Anthropic's event grammar and returns the blocks as a client would rebuild them.</summary>
    public static List<RebuiltBlock> AssertValid(List<AnthropicEvent> events, bool complete)
    {
        var blocks = new List<RebuiltBlock>();
        int? open = null;
        var sawDelta = false;
        var sawStop = false;
        for (var i = 0; i < events.Count; i++)
        {
            var (name, data) = (events[i].Name, events[i].Data);
            Assert.Equal(name, (string?)data["type"]);
            Assert.False(sawStop, "nothing may follow message_stop");
            if (i == 0) Assert.Equal("message_start", name);
            switch (name)
            {
                case "message_start":
                    Assert.Equal(0, i);
                    var message = data["message"]!.AsObject();
                    Assert.Equal("message", (string?)message["type"]);
                    Assert.Equal("assistant", (string?)message["role"]);
                    Assert.StartsWith("msg_", (string?)message["id"]);
                    Assert.Empty(message["content"]!.AsArray());
                    break;
                case "content_block_start":
                    Assert.Null(open);
                    Assert.False(sawDelta);
                    var index = (int)data["index"]!;
                    Assert.Equal(blocks.Count, index);
                    var block = data["content_block"]!.AsObject();
                    var type = (string)block["type"]!;
                    Assert.Contains(type, new[] { "text", "thinking", "redacted_thinking", "tool_use" });
                    if (type == "tool_use")
                    {
                        Assert.False(string.IsNullOrEmpty((string?)block["id"]));
                        Assert.NotNull(block["name"]);
                        Assert.Empty(block["input"]!.AsObject());
                    }
                    blocks.Add(new RebuiltBlock(type, type == "redacted_thinking" ? (string)block["data"]! : "", "", (string?)block["id"], (string?)block["name"]));
                    open = index;
                    break;
                case "content_block_delta":
                    Assert.Equal(open, (int)data["index"]!);
                    var delta = data["delta"]!.AsObject();
                    var current = blocks[open!.Value];
                    var deltaType = (string)delta["type"]!;
                    switch (current.Type, deltaType)
                    {
                        case ("text", "text_delta"): blocks[open.Value] = current with { Text = current.Text + (string)delta["text"]! }; break;
                        case ("thinking", "thinking_delta"): blocks[open.Value] = current with { Text = current.Text + (string)delta["thinking"]! }; break;
                        case ("thinking", "signature_delta"): blocks[open.Value] = current with { Signature = current.Signature + (string)delta["signature"]! }; break;
                        case ("tool_use", "input_json_delta"): blocks[open.Value] = current with { Text = current.Text + (string)delta["partial_json"]! }; break;
                        default: Assert.Fail($"delta {deltaType} inside a {current.Type} block"); break;
                    }
                    break;
                case "content_block_stop":
                    Assert.Equal(open, (int)data["index"]!);
                    open = null;
                    break;
                case "message_delta":
                    Assert.Null(open);
                    Assert.False(sawDelta, "message_delta appears once");
                    sawDelta = true;
                    Assert.Contains((string?)data["delta"]!["stop_reason"], new[] { "end_turn", "max_tokens", "tool_use", "refusal", "stop_sequence" });
                    Assert.NotNull(data["usage"]!["output_tokens"]);
                    Assert.NotNull(data["usage"]!["input_tokens"]);
                    break;
                case "message_stop":
                    Assert.True(sawDelta, "message_stop follows message_delta");
                    sawStop = true;
                    break;
                case "ping":
                    Assert.Equal(1, i); // Anthropic's place for it: right after message_start
                    break;
                default:
                    Assert.Fail($"unexpected event {name}");
                    break;
            }
        }
        if (complete)
        {
            Assert.True(sawStop, "a finished stream ends with message_stop");
        }
        else
        {
            Assert.False(sawDelta, "an unfinished stream never reports a stop reason");
        }
        return blocks;
    }

    /// <summary>Events with the random message id replaced, for comparing runs.</summary>
    public static string Normalised(List<AnthropicEvent> events)
    {
        var sb = new StringBuilder();
        foreach (var e in events)
        {
            var copy = e.Data.DeepClone().AsObject();
            if (copy["message"] is JsonObject m) m["id"] = "msg_x";
            sb.Append(e.Name).Append(' ').Append(copy.ToJsonString()).Append('\n');
        }
        return sb.ToString();
    }
}
