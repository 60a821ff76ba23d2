using System.Buffers;
using System.Text;
using System.Text.Json;
using CsCheck;
using LLMux.Pipeline.Streaming.Decoders;
using Xunit;

namespace LLMux.Tests.Decoders;

public sealed class JsonArrayDecoderTests
{
    private static List<string> Run(IEnumerable<ReadOnlyMemory<byte>> chunks, Layout layout = Layout.Segments)
    {
        var decoder = new JsonArrayDecoder();
        return PipeLoop.Run<string>(chunks, (ref ReadOnlySequence<byte> buffer, bool isFinal, out string item) =>
        {
            if (decoder.TryRead(ref buffer, isFinal, out var element))
            {
                item = Encoding.UTF8.GetString(element);
                return true;
            }
            item = null!;
            return false;
        }, layout);
    }

    /// <summary>The elements System.Text.Json sees in the whole array, as their raw text.</summary>
    private static List<string> Oracle(string json)
    {
        using var document = JsonDocument.Parse(json);
        var elements = new List<string>();
        foreach (var element in document.RootElement.EnumerateArray()) elements.Add(element.GetRawText());
        return elements;
    }

    private static void AssertEverySplit(string json)
    {
        var input = Encoding.UTF8.GetBytes(json);
        var expected = Oracle(json);
        foreach (var (name, chunks) in PipeLoop.Splits(input))
        {
            foreach (var layout in Enum.GetValues<Layout>())
            {
                var actual = Run(chunks, layout);
                Assert.True(expected.SequenceEqual(actual), $"{name}, {layout}: expected [{string.Join(" | ", expected)}] got [{string.Join(" | ", actual)}]");
            }
        }
    }

    private static void AssertRejectedAtEverySplit(string json, string messagePart)
    {
        var input = Encoding.UTF8.GetBytes(json);
        foreach (var (name, chunks) in PipeLoop.Splits(input))
        {
            foreach (var layout in Enum.GetValues<Layout>())
            {
                var error = Assert.Throws<InvalidDataException>(() => Run(chunks, layout));
                Assert.True(error.Message.Contains(messagePart, StringComparison.Ordinal), $"{name}, {layout}: {error.Message}");
            }
        }
    }

    [Fact]
    public void JsonArray_gemini_stream_yields_each_element_at_any_split() => AssertEverySplit(
        """
        [{
          "candidates": [{"content": {"parts": [{"text": "Hello"}],"role": "model"},"index": 0}],
          "usageMetadata": {"promptTokenCount": 5,"candidatesTokenCount": 1,"totalTokenCount": 6}
        }
        ,
        {
          "candidates": [{"content": {"parts": [{"text": " world"}],"role": "model"},"finishReason": "STOP","index": 0}]
        }
        ]
        """);

    [Fact]
    public void JsonArray_strings_with_brackets_and_escapes_do_not_end_an_element() => AssertEverySplit(
        """[{"a":"]}[{,"},{"b":"\"]}"},{"c":"\\"},{"d":"\\\"]"},{"e":"\u0022]"},["]",{"f":[1,{"g":"}"}]}]]""");

    [Fact]
    public void JsonArray_whitespace_and_newlines_between_elements_are_skipped() =>
        AssertEverySplit("\r\n \t[ \n{}\r\n,\t[] ,\n\n{\"x\":1}  \r\n]\n ");

    [Fact]
    public void JsonArray_scalar_and_string_elements_are_yielded() =>
        AssertEverySplit("""[1,-2.5e+3, true ,false,null,"s\"t]",0]""");

    [Fact]
    public void JsonArray_empty_array_yields_nothing()
    {
        AssertEverySplit("[]");
        AssertEverySplit(" [ \n ] ");
    }

    [Fact]
    public void JsonArray_element_is_a_slice_of_the_input()
    {
        var bytes = "[{\"a\":1},{\"b\":2}]"u8.ToArray();
        var buffer = new ReadOnlySequence<byte>(bytes);
        var decoder = new JsonArrayDecoder();
        Assert.True(decoder.TryRead(ref buffer, false, out var element));
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(element.First, out var segment));
        Assert.Same(bytes, segment.Array);
        Assert.Equal(1, segment.Offset);
        Assert.Equal("{\"a\":1}", Encoding.UTF8.GetString(element));
    }

    [Fact]
    public void JsonArray_not_starting_with_a_bracket_is_rejected()
    {
        AssertRejectedAtEverySplit("{\"a\":1}", "expected '['");
        AssertRejectedAtEverySplit("data: {}", "expected '['");
    }

    [Fact]
    public void JsonArray_garbage_between_elements_is_rejected()
    {
        AssertRejectedAtEverySplit("[{\"a\":1} x {\"b\":2}]", "expected ',' or ']'");
        AssertRejectedAtEverySplit("[{\"a\":1}{\"b\":2}]", "expected ',' or ']'");
        AssertRejectedAtEverySplit("[{\"a\":1},]", "expected an array element");
        AssertRejectedAtEverySplit("[,{\"a\":1}]", "expected an array element");
        AssertRejectedAtEverySplit("[1 2]", "expected ',' or ']'");
    }

    [Fact]
    public void JsonArray_mismatched_brackets_are_rejected()
    {
        AssertRejectedAtEverySplit("[{\"a\":1]]", "expected '}'");
        AssertRejectedAtEverySplit("[[1}]", "expected ']'");
        AssertRejectedAtEverySplit("[1}]", "inside a number");
    }

    [Fact]
    public void JsonArray_anything_after_the_closing_bracket_is_rejected() =>
        AssertRejectedAtEverySplit("[{}] [", "nothing may follow");

    [Fact]
    public void JsonArray_truncated_stream_is_rejected_at_the_end()
    {
        AssertRejectedAtEverySplit("[{\"a\":1},{\"b\":\"]", "ended inside an element");
        AssertRejectedAtEverySplit("[{\"a\":1}", "before its closing ']'");
        AssertRejectedAtEverySplit("[{\"a\":1},", "before its closing ']'");
        AssertRejectedAtEverySplit("[12", "ended inside an element");
        AssertRejectedAtEverySplit("  ", "was empty");
    }

    [Fact]
    public void JsonArray_elements_before_a_cut_are_still_delivered()
    {
        var seen = new List<string>();
        var decoder = new JsonArrayDecoder();
        var buffer = new ReadOnlySequence<byte>("[{\"a\":1},{\"b\":"u8.ToArray());
        Assert.Throws<InvalidDataException>(() =>
        {
            while (decoder.TryRead(ref buffer, isFinalBlock: true, out var element)) seen.Add(Encoding.UTF8.GetString(element));
        });
        Assert.Equal(["{\"a\":1}"], seen);
    }

    [Fact]
    public void JsonArray_oversized_element_is_rejected_without_waiting_for_its_end()
    {
        var decoder = new JsonArrayDecoder(maxElementLength: 1024);
        var buffer = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes("[{\"a\":\"" + new string('x', 2000)));
        var error = Assert.Throws<InvalidDataException>(() => decoder.TryRead(ref buffer, isFinalBlock: false, out _));
        Assert.Contains("longer than 1024", error.Message);
    }

    [Fact]
    public void JsonArray_nesting_deeper_than_64_is_rejected()
    {
        var decoder = new JsonArrayDecoder();
        var buffer = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes("[" + new string('[', 65) + new string(']', 66)));
        var error = Assert.Throws<InvalidDataException>(() => decoder.TryRead(ref buffer, isFinalBlock: true, out _));
        Assert.Contains("deeper than 64", error.Message);
    }

    private static readonly string[] Whitespace = ["", " ", "\n", "\r\n", "\t", "  \n  "];

    /// <summary>A random JSON value: objects, arrays, tricky strings and numbers.</summary>
    private static string RandomJson(Random random, int depth)
    {
        string Ws() => Whitespace[random.Next(Whitespace.Length)];
        var kind = depth > 3 ? random.Next(4) : random.Next(6);
        switch (kind)
        {
            case 0: return random.Next(3) switch { 0 => "true", 1 => "false", _ => "null" };
            case 1: return (random.NextDouble() * 1e6 - 5e5).ToString("R", System.Globalization.CultureInfo.InvariantCulture);
            case 2:
            case 3:
                var parts = new[] { "a", "]", "[", "}", "{", ",", "\\\"", "\\\\", "\\n", "\\u005d", " ", "é" };
                var text = new StringBuilder("\"");
                for (var i = random.Next(6); i > 0; i--) text.Append(parts[random.Next(parts.Length)]);
                return text.Append('"').ToString();
            case 4:
                var items = new List<string>();
                for (var i = random.Next(4); i > 0; i--) items.Add(Ws() + RandomJson(random, depth + 1) + Ws());
                return "[" + string.Join(",", items) + "]";
            default:
                var members = new List<string>();
                for (var i = random.Next(4); i > 0; i--) members.Add($"{Ws()}\"k{i}\"{Ws()}:{Ws()}{RandomJson(random, depth + 1)}{Ws()}");
                return "{" + string.Join(",", members) + "}";
        }
    }

    private static readonly Gen<string> RandomArray = Gen.Int.Select(seed =>
    {
        var random = new Random(seed);
        var elements = new List<string>();
        for (var i = random.Next(6); i > 0; i--) elements.Add(Whitespace[random.Next(Whitespace.Length)] + RandomJson(random, 0));
        return Whitespace[random.Next(Whitespace.Length)] + "[" + string.Join(",", elements) + " ]";
    });

    [Fact]
    public void JsonArray_random_arrays_match_System_Text_Json_at_random_splits()
    {
        Gen.Select(RandomArray, Gen.Int[1, 16].Array[1, 10]).Sample((json, cuts) =>
        {
            var expected = Oracle(json);
            var input = Encoding.UTF8.GetBytes(json);
            Assert.Equal(expected, Run([input]));
            Assert.Equal(expected, Run(PipeLoop.Cut(input, cuts)));
            Assert.Equal(expected, Run(PipeLoop.Cut(input, cuts), Layout.Contiguous));
        }, iter: 2000);
    }

    [Fact]
    public void JsonArray_random_arrays_cut_short_always_end_in_InvalidDataException()
    {
        Gen.Select(RandomArray, Gen.Int[0, 1000]).Sample((json, cut) =>
        {
            var input = Encoding.UTF8.GetBytes(json.TrimEnd());
            var length = cut % input.Length; // strictly shorter than the whole array
            Assert.Throws<InvalidDataException>(() => Run([input.AsMemory(0, length)]));
        }, iter: 2000);
    }

    [Fact]
    public void JsonArray_random_bytes_end_in_elements_or_InvalidDataException()
    {
        Gen.Select(Gen.Byte.Array[0, 200], Gen.Int[1, 32].Array[1, 6], Gen.Bool).Sample((bytes, cuts, bracket) =>
        {
            var input = bracket ? [(byte)'[', .. bytes] : bytes;
            try { Run(PipeLoop.Cut(input, cuts)); }
            catch (InvalidDataException) { }
        }, iter: 3000);
    }
}
