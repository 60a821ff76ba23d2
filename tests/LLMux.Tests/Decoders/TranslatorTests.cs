using System.Buffers;
using System.Text;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Streaming;
using LLMux.Pipeline.Streaming.Decoders;
using Xunit;

namespace LLMux.Tests.Decoders;

public sealed class TranslatorTests
{
    /// <summary>Writes each element as one line, then "END".</summary>
    private sealed class LinePerElement : JsonArrayStreamTranslator
    {
        protected override void OnElement(ReadOnlySequence<byte> element, IBufferWriter<byte> output)
        {
            ContentStarted = true;
            foreach (var memory in element) output.Write(memory.Span);
            output.Write("\n"u8);
        }

        protected override void OnEnd(IBufferWriter<byte> output) => output.Write("END"u8);
    }

    /// <summary>Writes "event-type payload" per message, then "END".</summary>
    private sealed class LinePerMessage : EventStreamTranslator
    {
        protected override void OnMessage(in EventStreamMessage msg, IBufferWriter<byte> output)
        {
            ContentStarted = true;
            foreach (var memory in msg.EventType) output.Write(memory.Span);
            output.Write(" "u8);
            foreach (var memory in msg.Payload) output.Write(memory.Span);
            output.Write("\n"u8);
        }

        protected override void OnEnd(IBufferWriter<byte> output) => output.Write("END"u8);
    }

    /// <summary>A translator with a bug: the second element throws something no decoder throws.</summary>
    private sealed class ThrowsOnSecond : JsonArrayStreamTranslator
    {
        private int _seen;

        protected override void OnElement(ReadOnlySequence<byte> element, IBufferWriter<byte> output)
        {
            if (++_seen == 2) throw new InvalidOperationException("translator bug");
            ContentStarted = true;
            output.Write("first\n"u8);
        }

        protected override void OnEnd(IBufferWriter<byte> output) => output.Write("END"u8);
    }

    /// <summary>A stream that hands out its bytes a few at a time, as a network read would.</summary>
    private sealed class TrickleStream(byte[] data, int step) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(step, buffer.Length)], cancellationToken);

        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(step, buffer.Length)]);
    }

    private static async Task<(string Text, LlmError? Error)> PumpAsync(byte[] upstream, StreamTranslator translator, int step)
    {
        var (text, error, _) = await PumpWithFaultAsync(upstream, translator, step);
        return (text, error);
    }

    private static async Task<(string Text, LlmError? Error, Exception? Fault)> PumpWithFaultAsync(byte[] upstream, StreamTranslator translator, int step)
    {
        await using var pump = StreamPump.Start(new TrickleStream(upstream, step), translator, StreamPumpOptions.Default, "test", CancellationToken.None);
        var text = new StringBuilder();
        LlmError? error = null;
        await foreach (var segment in pump.Segments.ReadAllAsync())
        {
            if (segment.Error is not null) error = segment.Error;
            else text.Append(Encoding.UTF8.GetString(segment.Memory.Span));
            segment.Release();
        }
        await pump.Completion;
        return (text.ToString(), error, pump.Fault);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4096)]
    public async Task An_unexpected_translator_exception_ends_the_stream_with_a_server_error_after_the_content(int step)
    {
        var run = PumpWithFaultAsync("[{\"a\":1},{\"b\":2},{\"c\":3}]"u8.ToArray(), new ThrowsOnSecond(), step);
        // Bounded: a pump that never completed its channel would hang here.
        var (text, error, fault) = await run.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("first\n", text);
        Assert.NotNull(error);
        Assert.Equal(ErrorKind.ServerError, error.Kind);
        // The exception's text can hold anything: it stays on the pump for the host's log, out of the client's error.
        Assert.DoesNotContain("translator bug", error.Message);
        Assert.Equal("translator bug", Assert.IsType<InvalidOperationException>(fault).Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(4096)]
    public async Task JsonArray_translator_maps_each_element_through_the_pump(int step)
    {
        var (text, error) = await PumpAsync("[{\"a\":\"]\"},\n {\"b\":[1,2]}\n]"u8.ToArray(), new LinePerElement(), step);
        Assert.Null(error);
        Assert.Equal("{\"a\":\"]\"}\n{\"b\":[1,2]}\nEND", text);
    }

    [Fact]
    public async Task JsonArray_translator_turns_a_cut_stream_into_a_bad_gateway_error_after_the_content()
    {
        var (text, error) = await PumpAsync("[{\"a\":1},{\"b\":"u8.ToArray(), new LinePerElement(), 3);
        Assert.Equal("{\"a\":1}\n", text);
        Assert.NotNull(error);
        Assert.Equal(ErrorKind.BadGateway, error.Kind);
        Assert.Contains("ended inside an element", error.Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public async Task EventStream_translator_maps_each_message_through_the_pump(int step)
    {
        var upstream = EventStreamEncoder.BedrockEvent("messageStart", "{\"role\":\"assistant\"}")
            .Concat(EventStreamEncoder.BedrockEvent("contentBlockDelta", "{\"delta\":{\"text\":\"Hi\"}}")).ToArray();
        var (text, error) = await PumpAsync(upstream, new LinePerMessage(), step);
        Assert.Null(error);
        Assert.Equal("messageStart {\"role\":\"assistant\"}\ncontentBlockDelta {\"delta\":{\"text\":\"Hi\"}}\nEND", text);
    }

    [Fact]
    public async Task EventStream_translator_turns_a_cut_stream_into_a_bad_gateway_error()
    {
        var whole = EventStreamEncoder.BedrockEvent("messageStart", "{\"role\":\"assistant\"}")
            .Concat(EventStreamEncoder.BedrockEvent("contentBlockDelta", "{\"delta\":{\"text\":\"Hi\"}}")).ToArray();
        var (text, error) = await PumpAsync(whole[..^10], new LinePerMessage(), 16);
        Assert.Equal("messageStart {\"role\":\"assistant\"}\n", text);
        Assert.NotNull(error);
        Assert.Equal(ErrorKind.BadGateway, error.Kind);
        Assert.Contains("ended inside a message", error.Message);
    }

    [Fact]
    public async Task EventStream_translator_turns_a_corrupt_message_into_a_bad_gateway_error()
    {
        var upstream = EventStreamEncoder.BedrockEvent("contentBlockDelta", "{\"delta\":{\"text\":\"Hi\"}}");
        upstream[^6] ^= 0x20;
        var (text, error) = await PumpAsync(upstream, new LinePerMessage(), 4096);
        Assert.Equal("", text);
        Assert.NotNull(error);
        Assert.Contains("CRC mismatch", error.Message);
    }
}
