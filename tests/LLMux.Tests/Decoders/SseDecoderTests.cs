using Xunit;
using System.Buffers;
using System.Text;
using CsCheck;
using LLMux.Pipeline.Streaming.Decoders;

namespace LLMux.Tests.Decoders;

public sealed class SseDecoderTests
{
    private static readonly string[] NewlineStyles = ["\n", "\r", "\r\n"];

    /// <summary>
    /// Asserts <paramref name="expected"/> for <paramref name="text"/> (written with LF) under LF, CR and CRLF,
    /// fed whole, cut at every byte, as a 1-byte trickle and with empty segments; also checks the reference model
    /// against the expectation and SseParser against the model.
    /// </summary>
    private static void AssertEverySplit(string text, params SseEvent[] expected)
    {
        foreach (var newline in NewlineStyles)
        {
            var input = Encoding.UTF8.GetBytes(text.Replace("\n", newline));
            var style = newline == "\n" ? "LF" : newline == "\r" ? "CR" : "CRLF";
            Assert.Equal(expected, SseModel.Decoder(input));
            Assert.Equal(SseModel.SseParserLike(input), SseModel.RunSseParser(input));
            foreach (var (name, chunks) in PipeLoop.Splits(input))
            {
                foreach (var layout in Enum.GetValues<Layout>())
                {
                    var actual = SseModel.RunDecoder(chunks, layout);
                    Assert.True(expected.SequenceEqual(actual), $"{style}, {name}, {layout}: expected [{string.Join(", ", expected)}] got [{string.Join(", ", actual)}]");
                }
            }
        }
    }

    [Fact]
    public void Sse_single_data_line_is_one_event_at_any_split() =>
        AssertEverySplit("data: hello\n\n", new SseEvent("hello"));

    [Fact]
    public void Sse_multiline_data_survives_any_split() =>
        AssertEverySplit("data: a\ndata:b\ndata:  c\n\n", new SseEvent("a\nb\n c"));

    [Fact]
    public void Sse_event_field_names_the_type_and_resets_after_dispatch() =>
        AssertEverySplit("event: message_start\ndata: {\"type\":\"message_start\"}\n\ndata: x\n\n",
            new SseEvent("{\"type\":\"message_start\"}", "message_start"), new SseEvent("x"));

    [Fact]
    public void Sse_comments_and_unknown_fields_are_ignored() =>
        AssertEverySplit(": keep-alive\nfoo: bar\ndata: x\n: more\nverylongfieldname: 1\n\n", new SseEvent("x"));

    [Fact]
    public void Sse_only_one_space_after_the_colon_is_stripped() =>
        AssertEverySplit("data:no-space\n\ndata:  two\n\ndata:\ttab\n\n",
            new SseEvent("no-space"), new SseEvent(" two"), new SseEvent("\ttab"));

    [Fact]
    public void Sse_field_without_colon_has_an_empty_value() =>
        AssertEverySplit("data\n\ndata\ndata\n\n", new SseEvent(""), new SseEvent("\n"));

    [Fact]
    public void Sse_empty_data_line_still_dispatches() =>
        AssertEverySplit("data:\n\n", new SseEvent(""));

    [Fact]
    public void Sse_blank_lines_without_data_dispatch_nothing() =>
        AssertEverySplit("\n\n\nevent: lonely\n\n\ndata: y\n\n\n\n", new SseEvent("y"));

    [Fact]
    public void Sse_id_and_retry_are_reported_on_their_event() =>
        AssertEverySplit("id: 42\nretry: 1500\ndata: x\n\ndata: y\n\n",
            new SseEvent("x", Id: "42", Retry: 1500), new SseEvent("y"));

    [Fact]
    public void Sse_id_survives_a_blank_line_without_data() =>
        AssertEverySplit("id: 7\n\n: ping\n\ndata: z\n\n", new SseEvent("z", Id: "7"));

    [Fact]
    public void Sse_id_with_nul_and_retry_with_non_digits_are_ignored() =>
        AssertEverySplit("id: a\0b\nretry: 10a\nretry:\nretry: -5\ndata: x\n\n", new SseEvent("x"));

    [Fact]
    public void Sse_leading_bom_is_skipped_once() =>
        AssertEverySplit("\uFEFFdata: a\n\n\uFEFFdata: b\n\n", new SseEvent("a"));

    [Fact]
    public void Sse_last_event_without_blank_line_is_dispatched_at_end_of_stream()
    {
        AssertEverySplit("data: a\n\ndata: last\n", new SseEvent("a"), new SseEvent("last"));
        AssertEverySplit("data: a\n\ndata: last", new SseEvent("a"), new SseEvent("last"));
        AssertEverySplit("event: e\ndata: last\n: trailing comment", new SseEvent("last", "e"));
    }

    [Fact]
    public void Sse_openai_stream_frames_are_slices_with_done_marker()
    {
        var text = "data: {\"id\":\"c1\",\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n" +
                   "data: {\"id\":\"c1\",\"choices\":[{\"delta\":{\"content\":\"[x]\\n\"}}]}\n\n" +
                   "data: [DONE]\n\n";
        AssertEverySplit(text,
            new SseEvent("{\"id\":\"c1\",\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}"),
            new SseEvent("{\"id\":\"c1\",\"choices\":[{\"delta\":{\"content\":\"[x]\\n\"}}]}"),
            new SseEvent("[DONE]"));
    }

    [Fact]
    public void Sse_mixed_newlines_in_one_stream_are_each_one_line_end()
    {
        var input = Encoding.UTF8.GetBytes("data: a\r\ndata: b\rdata: c\n\r\ndata: d\r\r");
        var expected = new[] { new SseEvent("a\nb\nc"), new SseEvent("d") };
        foreach (var (_, chunks) in PipeLoop.Splits(input))
        {
            Assert.Equal(expected, SseModel.RunDecoder(chunks));
            Assert.Equal(expected, SseModel.RunDecoder(chunks, Layout.Contiguous));
        }
        Assert.Equal(expected, SseModel.RunSseParser(input));
    }

    [Fact]
    public void Sse_cr_at_end_of_a_read_dispatches_without_waiting_for_the_next_byte()
    {
        using var decoder = new SseDecoder();
        var buffer = new ReadOnlySequence<byte>("data: x\r\r"u8.ToArray());
        Assert.True(decoder.TryRead(ref buffer, isFinalBlock: false, out var frame));
        Assert.True(frame.DataIs("x"u8));
        Assert.True(buffer.IsEmpty);
        // The LF that completes the CRLF arrives later and is not a second blank line.
        var more = new ReadOnlySequence<byte>("\ndata: y\r\n\r\n"u8.ToArray());
        Assert.True(decoder.TryRead(ref more, isFinalBlock: false, out frame));
        Assert.True(frame.DataIs("y"u8));
    }

    [Fact]
    public void Sse_single_data_line_is_a_slice_of_the_input()
    {
        using var decoder = new SseDecoder();
        var bytes = "event: ping\ndata: abc\n\n"u8.ToArray();
        var buffer = new ReadOnlySequence<byte>(bytes);
        Assert.True(decoder.TryRead(ref buffer, false, out var frame));
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(frame.Data.First, out var segment));
        Assert.Same(bytes, segment.Array);
        Assert.True(frame.EventTypeIs("ping"u8));
        Assert.False(frame.EventTypeIs("pong"u8));
    }

    [Fact]
    public void Sse_long_line_arriving_in_small_pieces_decodes_once_complete()
    {
        var payload = new string('x', 20_000);
        var input = Encoding.UTF8.GetBytes($"data: {payload}\ndata: {payload}\n\n");
        var chunks = PipeLoop.Cut(input, Enumerable.Repeat(97, input.Length / 97 + 1).ToArray());
        Assert.Equal([new SseEvent(payload + "\n" + payload)], SseModel.RunDecoder(chunks));
        Assert.Equal([new SseEvent(payload + "\n" + payload)], SseModel.RunDecoder(chunks, Layout.Contiguous));
    }

    [Fact]
    public void Sse_event_longer_than_the_limit_without_an_end_is_invalid_data()
    {
        using var decoder = new SseDecoder(maxEventLength: 64);
        // A line that never ends, fed as a PipeReader would: the unconsumed bytes come back with the new ones.
        var pending = Array.Empty<byte>();
        var threw = false;
        for (var i = 0; i < 10 && !threw; i++)
        {
            var input = new ReadOnlySequence<byte>([.. pending, .. Encoding.UTF8.GetBytes(i == 0 ? "data: " : "xxxxxxxxxxxxxxxx")]);
            try
            {
                Assert.False(decoder.TryRead(ref input, isFinalBlock: false, out _));
                pending = input.ToArray();
            }
            catch (InvalidDataException ex)
            {
                Assert.Contains("64 bytes", ex.Message);
                threw = true;
            }
        }
        Assert.True(threw);
        Assert.True(pending.Length <= 64);
    }

    [Fact]
    public void Sse_event_within_the_limit_decodes_when_split()
    {
        var input = Encoding.UTF8.GetBytes("data: " + new string('y', 56) + "\n\n"); // 64 bytes in all
        using var decoder = new SseDecoder(maxEventLength: input.Length);
        var first = new ReadOnlySequence<byte>(input.AsMemory(0, 63));
        Assert.False(decoder.TryRead(ref first, isFinalBlock: false, out _));
        var all = new ReadOnlySequence<byte>(input);
        Assert.True(decoder.TryRead(ref all, isFinalBlock: false, out var frame));
        Assert.True(frame.DataIs(Encoding.UTF8.GetBytes(new string('y', 56))));
    }

    [Fact]
    public void Sse_frame_helpers_compare_multi_segment_values_without_copying()
    {
        using var decoder = new SseDecoder();
        var input = "event: content_block_delta\ndata: [DONE]\n\n"u8.ToArray();
        var buffer = PipeLoop.Segmented(input, 3);
        Assert.True(decoder.TryRead(ref buffer, false, out var frame));
        Assert.False(frame.Data.IsSingleSegment);
        Assert.True(frame.DataIs("[DONE]"u8));
        Assert.True(frame.EventTypeIs("content_block_delta"u8));
        Assert.False(frame.DataIs("[DONE"u8));
    }

    public static TheoryData<string> Corpus => new()
    {
        "data: hello\n\n",
        "data: a\ndata: b\n\nevent: e\ndata: c\n\n",
        ":comment\n\ndata:x\nid:1\nretry:5\n\n",
        "event: foo\n\ndata: after-reset\n\n",
        "data: 1\n\ndata: 2",
        "retry: 99999999999999999999\ndata: huge\n\n",
        "retry: 922337203685478\ndata: above-timespan\n\n",
        "id\ndata: empty-id\n\n",
        "\uFEFF\uFEFFdata: double-bom\n\n",
        "data: é€😀\n\n",
        "retry:1\0\ndata: nul-after-digits\n\nretry: 7\ndata: seven\n\n", // SseParser reads "1\0" as 1; the spec ignores it
    };

    [Theory]
    [MemberData(nameof(Corpus))]
    public void Sse_decoder_and_SseParser_agree_with_the_spec_model(string text)
    {
        foreach (var newline in NewlineStyles)
        {
            var input = Encoding.UTF8.GetBytes(text.Replace("\n", newline));
            var expected = SseModel.Decoder(input);
            Assert.Equal(SseModel.SseParserLike(input), SseModel.RunSseParser(input));
            foreach (var (name, chunks) in PipeLoop.Splits(input))
            {
                Assert.True(expected.SequenceEqual(SseModel.RunDecoder(chunks)), name);
                Assert.True(expected.SequenceEqual(SseModel.RunDecoder(chunks, Layout.Contiguous)), name);
            }
        }
    }

    private static readonly Gen<string> SseText =
        Gen.Select(
            Gen.Bool,
            Gen.OneOf("data", "data:", "data: ", "event:", "event: ", "id:", "id: ", "retry:", "retry: ", ":", " ",
                "x", "yz", "1", "42", "\0", "é", "€", "\n", "\r", "\r\n", "\n\n", "{\"a\":[1]}", "datum").Array[0, 40],
            (bom, tokens) => (bom ? "\uFEFF" : "") + string.Concat(tokens));

    [Fact]
    public void Sse_random_streams_match_SseParser_and_the_model_at_random_splits()
    {
        Gen.Select(SseText, Gen.Int[1, 16].Array[1, 8]).Sample((text, cuts) =>
        {
            var input = Encoding.UTF8.GetBytes(text);
            Assert.Equal(SseModel.SseParserLike(input), SseModel.RunSseParser(input));
            var expected = SseModel.Decoder(input);
            Assert.Equal(expected, SseModel.RunDecoder([input]));
            Assert.Equal(expected, SseModel.RunDecoder(PipeLoop.Cut(input, cuts)));
            Assert.Equal(expected, SseModel.RunDecoder(PipeLoop.Cut(input, cuts), Layout.Contiguous));
            Assert.Equal(expected, SseModel.RunDecoder(PipeLoop.Splits(input).Last().Chunks, Layout.EmptySegments));
        }, iter: 1500);
    }

    [Fact]
    public void Sse_random_bytes_never_throw_and_are_fully_consumed()
    {
        Gen.Select(Gen.Byte.Array[0, 300], Gen.Int[1, 64].Array[1, 8]).Sample((input, cuts) =>
        {
            SseModel.RunDecoder(PipeLoop.Cut(input, cuts));
        }, iter: 2000);
    }
}
