using System.Buffers;
using CsCheck;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Wire;
using LLMux.Providers.Common;

namespace LLMux.Tests.Messages;

/// <summary>
/// For any OpenAI chunk sequence a translating provider can write (text, reasoning with signatures, tool calls,
/// finish, usage), split anywhere, the translator emits a valid Anthropic event sequence that carries the same
/// content; a stream cut before its finish is a valid prefix followed by an error.
/// </summary>
public sealed class AnthropicEventSequenceProperties
{
    private abstract record Segment;
    private sealed record TextSegment(string[] Pieces) : Segment;
    private sealed record ReasoningSegment(string[] Pieces, string? Signature) : Segment;
    private sealed record ToolSegment(string Name, string? Id, string[] Arguments) : Segment;

    private sealed record Scenario(bool RoleFirst, Segment[] Segments, string Finish, bool Usage, bool Truncated, int ChunkSize)
    {
        public override string ToString() => System.Text.Json.JsonSerializer.Serialize(new
        {
            RoleFirst, Finish, Usage, Truncated, ChunkSize,
            Segments = Segments.Select(static s => s.ToString()).ToArray(),
        });
    }

    private static readonly Gen<string> Piece = Gen.OneOf("", "a", "Hello", " wörld", "\"q\"", "\\", "\n", "\n\n", "data: x", "😀", "{\"k\":", "1}", "é€")
        .Array[1, 3].Select(static parts => string.Concat(parts));

    private static readonly Gen<Segment> AnySegment = Gen.Frequency(
        (3, Piece.Array[1, 4].Select(static p => (Segment)new TextSegment(p))),
        (2, Gen.Select(Piece.Array[0, 3], Gen.OneOf<string?>(null, "sig-1", "c2lnbmF0dXJl")).Select(static (p, s) => (Segment)new ReasoningSegment(p, s))),
        (2, Gen.Select(Gen.OneOf("get_weather", "search", "f"), Gen.OneOf<string?>(null, "call_1", "toolu_9"), Piece.Array[0, 4])
            .Select(static (n, id, a) => (Segment)new ToolSegment(n, id, a))));

    private static readonly Gen<Scenario> Scenarios = Gen.Select(
            Gen.Bool, AnySegment.Array[0, 6], Gen.OneOf("stop", "length", "tool_calls", "content_filter"), Gen.Bool,
            Gen.Int[0, 9].Select(static n => n == 0), Gen.OneOf(1, 3, 7, 64, int.MaxValue))
        .Select(static (r, s, f, u, t, c) => new Scenario(r, s, f, u, t, c));

    [Fact]
    public void Every_chunk_sequence_becomes_a_valid_anthropic_event_sequence_with_the_same_content()
    {
        Scenarios.Sample(static scenario =>
        {
            var (upstream, expected) = Build(scenario);
            var (events, error) = AnthropicEventStream.Translate(upstream, scenario.ChunkSize);
            var blocks = AnthropicEventStream.AssertValid(events, complete: !scenario.Truncated);
            if (scenario.Truncated)
            {
                Assert.NotNull(error);
                Assert.Equal(ErrorKind.BadGateway, error.Error.Kind);
                return;
            }
            Assert.Null(error);
            Assert.Equal(expected.Count, blocks.Count);
            for (var i = 0; i < blocks.Count; i++)
            {
                Assert.Equal(expected[i].Type, blocks[i].Type);
                Assert.Equal(expected[i].Text, blocks[i].Text);
                // A signature from a provider other than Anthropic reaches the client tagged with it (ReasoningSignature).
                Assert.Equal(expected[i].Signature.Length == 0 ? "" : "llmux1:openai:" + expected[i].Signature, blocks[i].Signature);
                if (expected[i].Type == "tool_use")
                {
                    Assert.Equal(expected[i].Name, blocks[i].Name);
                    if (expected[i].Id is { } id) Assert.Equal(id, blocks[i].Id);
                }
            }
            var delta = events.Single(static e => e.Name == "message_delta").Data;
            var sawTool = expected.Any(static b => b.Type == "tool_use");
            var stop = scenario.Finish switch
            {
                "length" => "max_tokens",
                "tool_calls" => "tool_use",
                "content_filter" => "refusal",
                _ => sawTool ? "tool_use" : "end_turn",
            };
            Assert.Equal(stop, (string?)delta["delta"]!["stop_reason"]);
            Assert.Equal(scenario.Usage ? 5 : 0, (int)delta["usage"]!["output_tokens"]!);
            Assert.Equal(scenario.Usage ? 9 : 0, (int)delta["usage"]!["input_tokens"]!);
        }, iter: 400, threads: 1, print: static s => s.ToString());
    }

    /// <summary>The upstream bytes as a translating provider writes them, and the blocks a client should rebuild.</summary>
    private static (byte[] Upstream, List<RebuiltBlock> Expected) Build(Scenario scenario)
    {
        var output = new ArrayBufferWriter<byte>();
        var w = new OpenAIChunkWriter("chatcmpl-p", "m", 1, includeUsage: true);
        var expected = new List<RebuiltBlock>();
        if (scenario.RoleFirst) w.Text(output, "");
        foreach (var segment in scenario.Segments)
        {
            switch (segment)
            {
                case TextSegment text:
                    foreach (var p in text.Pieces) w.Text(output, p);
                    Append(expected, "text", string.Concat(text.Pieces), "");
                    break;
                case ReasoningSegment reasoning:
                    foreach (var p in reasoning.Pieces) w.Reasoning(output, p);
                    if (reasoning.Signature is not null) w.Reasoning(output, "", reasoning.Signature);
                    Append(expected, "thinking", string.Concat(reasoning.Pieces), reasoning.Signature ?? "");
                    break;
                case ToolSegment tool:
                    var index = w.ToolCallStart(output, tool.Id, tool.Name);
                    foreach (var a in tool.Arguments) w.ToolCallArguments(output, index, a);
                    expected.Add(new RebuiltBlock("tool_use", string.Concat(tool.Arguments), "", tool.Id, tool.Name));
                    break;
            }
        }
        if (!scenario.Truncated)
        {
            w.Finish(output, scenario.Finish);
            if (scenario.Usage) w.Usage(output, new Usage { PromptTokens = 12, CompletionTokens = 5, PromptTokensDetails = new PromptTokensDetails { CachedTokens = 3 } });
            OpenAIChunkWriter.Done(output);
        }
        return (output.WrittenSpan.ToArray(), expected);
    }

    /// <summary>Consecutive text (or thinking) deltas share one block; empty content opens none.</summary>
    private static void Append(List<RebuiltBlock> blocks, string type, string text, string signature)
    {
        if (text.Length == 0 && signature.Length == 0) return;
        if (blocks.Count > 0 && blocks[^1].Type == type)
        {
            blocks[^1] = blocks[^1] with { Text = blocks[^1].Text + text, Signature = blocks[^1].Signature + signature };
            return;
        }
        blocks.Add(new RebuiltBlock(type, text, signature, null, null));
    }
}
