using System.Buffers;
using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;
using LLMux.Pipeline.Streaming;
using LLMux.Pipeline.Streaming.Decoders;
using LLMux.Providers.Common;

namespace LLMux.Providers.OpenAI;

/// <summary>
/// Same protocol both sides: each upstream <c>data:</c> frame is written to the client as it is. Each frame is
/// read once (no copy) to check it is JSON, to find an error event, the finish reason and the usage.
/// </summary>
internal sealed class OpenAIStreamPassthrough(LlmContext context, string provider) : SseStreamTranslator
{
    private static ReadOnlySpan<byte> DataPrefix => "data: "u8;
    private static ReadOnlySpan<byte> FrameEnd => "\n\n"u8;
    private static ReadOnlySpan<byte> Done => "[DONE]"u8;

    private bool _sawDone;
    private bool _sawFinish;
    // Where the usage object of the current frame closes (offset of its '}'), and whether it was empty.
    private long _usageClose = -1;
    private bool _usageEmpty;

    protected override void OnEvent(in SseFrame frame, IBufferWriter<byte> output)
    {
        var data = frame.Data;
        if (data.IsEmpty) return;
        if (frame.DataIs(Done))
        {
            _sawDone = true;
            Write(output, Done);
            return;
        }
        if (_sawDone) return;

        var suppress = Inspect(data);
        if (suppress) return;
        if (_usageClose > 0 && context.Usage is { } usage && context.PriceOf(usage) is { } cost)
        {
            // The usage chunk the client asked for carries the call's cost (usage.cost, USD).
            WriteWithCost(output, data, _usageClose, UsageCost.Member(cost, first: _usageEmpty));
            ContentStarted = true;
            return;
        }
        var span = output.GetSpan(DataPrefix.Length + (int)data.Length + FrameEnd.Length);
        DataPrefix.CopyTo(span);
        data.CopyTo(span[DataPrefix.Length..]);
        FrameEnd.CopyTo(span[(DataPrefix.Length + (int)data.Length)..]);
        output.Advance(DataPrefix.Length + (int)data.Length + FrameEnd.Length);
        ContentStarted = true;
    }

    /// <summary>Reads the frame; returns true when it must not reach the client (a usage chunk only we asked for).</summary>
    private bool Inspect(ReadOnlySequence<byte> data)
    {
        var reader = new Utf8JsonReader(data);
        _usageClose = -1;
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new JsonException("stream frame is not a JSON object");
        var choicesEmpty = false;
        var hasUsage = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    var open = reader.TokenStartIndex;
                    context.Usage = UsageReader.Read(ref reader);
                    hasUsage = true;
                    _usageClose = reader.TokenStartIndex;
                    _usageEmpty = _usageClose == open + 1;
                }
                else reader.Skip();
            }
            else if (reader.ValueTextEquals("choices"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartArray) { reader.Skip(); continue; }
                choicesEmpty = true;
                while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                {
                    choicesEmpty = false;
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        var isFinish = reader.ValueTextEquals("finish_reason"u8);
                        reader.Read();
                        if (isFinish && reader.TokenType == JsonTokenType.String) _sawFinish = true;
                        reader.Skip();
                    }
                }
            }
            else if (reader.ValueTextEquals("error"u8))
            {
                var bytes = data.ToArray();
                throw OpenAIErrorMapper.Map(provider, 0, bytes, null).ToException();
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        return hasUsage && choicesEmpty && context.InjectedIncludeUsage;
    }

    protected override void OnEnd(IBufferWriter<byte> output)
    {
        if (_sawDone) return;
        if (_sawFinish)
        {
            // The answer is complete; only the terminator is missing (some compatible servers omit it).
            Write(output, Done);
            return;
        }
        throw new LlmError
        {
            Kind = ErrorKind.BadGateway,
            Provider = provider,
            Message = $"{provider} stream ended before the answer finished (no finish_reason, no end marker); the answer is incomplete",
        }.ToException();
    }

    private static void WriteWithCost(IBufferWriter<byte> output, ReadOnlySequence<byte> data, long close, byte[] member)
    {
        output.Write(DataPrefix);
        foreach (var segment in data.Slice(0, close)) output.Write(segment.Span);
        output.Write(member);
        foreach (var segment in data.Slice(close)) output.Write(segment.Span);
        output.Write(FrameEnd);
    }

    private static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> payload)
    {
        var span = output.GetSpan(DataPrefix.Length + payload.Length + FrameEnd.Length);
        DataPrefix.CopyTo(span);
        payload.CopyTo(span[DataPrefix.Length..]);
        FrameEnd.CopyTo(span[(DataPrefix.Length + payload.Length)..]);
        output.Advance(DataPrefix.Length + payload.Length + FrameEnd.Length);
    }
}
