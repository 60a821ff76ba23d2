using System.Buffers;
using System.Text;
using LLMux.Pipeline.Streaming.Decoders;
using LLMux.Tests.Decoders;

namespace LLMux.Tests.Family;

public sealed class NdjsonDecoderTests
{
    private static List<string> Run(IEnumerable<ReadOnlyMemory<byte>> chunks, Layout layout, int max = NdjsonDecoder.DefaultMaxLineLength)
    {
        var decoder = new NdjsonDecoder(max);
        return PipeLoop.Run<string>(chunks, (ref ReadOnlySequence<byte> buffer, bool isFinal, out string item) =>
        {
            if (decoder.TryRead(ref buffer, isFinal, out var line))
            {
                item = Encoding.UTF8.GetString(line);
                return true;
            }
            item = null!;
            return false;
        }, layout);
    }

    public static IEnumerable<object[]> Inputs() =>
    [
        ["{\"a\":1}\n{\"b\":2}\n", new[] { "{\"a\":1}", "{\"b\":2}" }],
        ["{\"a\":1}\r\n{\"b\":\"x\\ny\"}\r\n", new[] { "{\"a\":1}", "{\"b\":\"x\\ny\"}" }],
        ["\n\n{\"a\":1}\n \n\r\n{\"é\":\"✓\"}", new[] { "{\"a\":1}", "{\"é\":\"✓\"}" }],
        ["{\"done\":true}", new[] { "{\"done\":true}" }],
        ["", Array.Empty<string>()],
        ["\n\r\n", Array.Empty<string>()],
    ];

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Lines_are_the_same_at_every_split_point_and_layout(string text, string[] expected)
    {
        var input = Encoding.UTF8.GetBytes(text);
        foreach (var (name, chunks) in PipeLoop.Splits(input))
        {
            foreach (var layout in Enum.GetValues<Layout>())
            {
                var actual = Run(chunks, layout);
                Assert.True(expected.SequenceEqual(actual), $"{name}, {layout}: got [{string.Join(" | ", actual)}]");
            }
        }
    }

    [Fact]
    public void A_recorded_ollama_stream_splits_into_its_lines_at_every_byte()
    {
        var text = string.Join("\n", OllamaLines) + "\n";
        var input = Encoding.UTF8.GetBytes(text);
        foreach (var (name, chunks) in PipeLoop.Splits(input))
            Assert.True(OllamaLines.SequenceEqual(Run(chunks, Layout.Segments)), name);
    }

    [Fact]
    public void A_line_over_the_bound_is_an_error_not_an_unbounded_buffer()
    {
        var input = Encoding.UTF8.GetBytes("{\"a\":\"0123456789\"}\n");
        var error = Assert.Throws<InvalidDataException>(() => Run([input], Layout.Segments, max: 8));
        Assert.Contains("longer than 8", error.Message);
        Assert.Throws<InvalidDataException>(() => Run([input.AsMemory(0, 12)], Layout.Segments, max: 8));
    }

    [Fact]
    public void An_unfinished_line_waits_for_more_input()
    {
        var decoder = new NdjsonDecoder();
        var buffer = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes("{\"a\":1}\n{\"b\""));
        Assert.True(decoder.TryRead(ref buffer, false, out var first));
        Assert.Equal("{\"a\":1}", Encoding.UTF8.GetString(first));
        Assert.False(decoder.TryRead(ref buffer, false, out _));
        Assert.Equal("{\"b\"", Encoding.UTF8.GetString(buffer));
    }

    internal static readonly string[] OllamaLines =
    [
        """{"model":"llama3.2","created_at":"2025-01-01T00:00:00Z","message":{"role":"assistant","content":"Hel"},"done":false}""",
        """{"model":"llama3.2","created_at":"2025-01-01T00:00:00Z","message":{"role":"assistant","content":"lo ✓"},"done":false}""",
        """{"model":"llama3.2","created_at":"2025-01-01T00:00:00Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","total_duration":1,"prompt_eval_count":9,"eval_count":4}""",
    ];
}
