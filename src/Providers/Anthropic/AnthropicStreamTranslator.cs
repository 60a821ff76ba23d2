using System.Buffers;
using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Streaming;
using LLMux.Pipeline.Streaming.Decoders;
using LLMux.Providers.Common;

namespace LLMux.Providers.Anthropic;

/// <summary>
/// Anthropic Messages SSE → OpenAI chat chunks, event by event as they arrive (LiteLLM's ModelResponseIterator):
/// text, tool-call starts and argument fragments, thinking and signatures stream at once; finish_reason and the
/// usage chunk come at <c>message_stop</c>; an <c>error</c> event or a stream cut before <c>message_stop</c> is an error.
/// </summary>
internal sealed class AnthropicStreamTranslator : SseStreamTranslator
{
    private enum BlockKind { None, Text, Tool, JsonTool, Thinking, Other }

    private readonly LlmContext _context;
    private readonly long _created;
    private readonly bool _jsonTool;
    private readonly string _provider;
    private OpenAIChunkWriter? _chunks;
    private char[] _chars = ArrayPool<char>.Shared.Rent(256);

    private AnthropicUsageCounter _usage;
    private string? _stopReason;
    private bool _stopped;

    private BlockKind _block;
    private int _toolIndex;
    private bool _toolGotArguments;

    /// <summary>One Anthropic event that reached LLMux some other way (a Bedrock eventstream <c>chunk</c>).</summary>
    internal void Accept(in SseFrame frame, IBufferWriter<byte> output) => OnEvent(frame, output);

    /// <summary>The other way's clean end.</summary>
    internal void AcceptEnd(IBufferWriter<byte> output) => OnEnd(output);

    public AnthropicStreamTranslator(LlmContext context, bool jsonTool, string provider = "anthropic")
    {
        _provider = provider;
        _context = context;
        _jsonTool = jsonTool;
        _created = context.TimeProvider.GetUtcNow().ToUnixTimeSeconds();
    }

    protected override void OnEvent(in SseFrame frame, IBufferWriter<byte> output)
    {
        var data = frame.Data;
        if (data.IsEmpty || _stopped) return;
        var reader = new Utf8JsonReader(data);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new JsonException("anthropic stream event is not a JSON object");
        var type = EventType(frame, data);
        switch (type)
        {
            case Event.MessageStart: OnMessageStart(ref reader); break;
            case Event.BlockStart: OnBlockStart(ref reader, output); break;
            case Event.BlockDelta: OnBlockDelta(ref reader, output); break;
            case Event.BlockStop: OnBlockStop(output); break;
            case Event.MessageDelta: OnMessageDelta(ref reader); break;
            case Event.MessageStop: OnMessageStop(output); break;
            case Event.Error: throw (AnthropicErrorMapper.Map(0, data.ToArray(), null) with { Provider = _provider }).ToException();
            default: break; // ping, and event types added later, carry nothing for an OpenAI client
        }
    }

    private enum Event { Other, MessageStart, BlockStart, BlockDelta, BlockStop, MessageDelta, MessageStop, Error }

    /// <summary>The SSE <c>event:</c> name, or the JSON <c>type</c> when the upstream sent none (LiteLLM reads only data).</summary>
    private static Event EventType(in SseFrame frame, ReadOnlySequence<byte> data)
    {
        if (!frame.EventType.IsEmpty) return Classify(frame.EventType.IsSingleSegment ? frame.EventType.FirstSpan : frame.EventType.ToArray());
        var reader = new Utf8JsonReader(data);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                return reader.TokenType == JsonTokenType.String ? Classify(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan) : Event.Other;
            }
            reader.Read();
            reader.Skip();
        }
        return Event.Other;
    }

    private static Event Classify(ReadOnlySpan<byte> name)
    {
        if (name.SequenceEqual("content_block_delta"u8)) return Event.BlockDelta;
        if (name.SequenceEqual("content_block_start"u8)) return Event.BlockStart;
        if (name.SequenceEqual("content_block_stop"u8)) return Event.BlockStop;
        if (name.SequenceEqual("message_start"u8)) return Event.MessageStart;
        if (name.SequenceEqual("message_delta"u8)) return Event.MessageDelta;
        if (name.SequenceEqual("message_stop"u8)) return Event.MessageStop;
        if (name.SequenceEqual("error"u8)) return Event.Error;
        return Event.Other;
    }

    private void OnMessageStart(ref Utf8JsonReader reader)
    {
        string? id = null, model = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!reader.ValueTextEquals("message"u8)) { reader.Read(); reader.Skip(); continue; }
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("id"u8)) { reader.Read(); id = reader.GetString(); }
                else if (reader.ValueTextEquals("model"u8)) { reader.Read(); model = reader.GetString(); }
                else if (reader.ValueTextEquals("usage"u8)) { reader.Read(); _usage.Read(ref reader); }
                else { reader.Read(); reader.Skip(); }
            }
        }
        _chunks ??= new OpenAIChunkWriter(id ?? "msg_" + Guid.NewGuid().ToString("N"), model ?? _context.Deployment?.UpstreamModel ?? "", _created, _context.Chat?.IncludeUsage == true, _context);
    }

    private OpenAIChunkWriter Chunks => _chunks ??= new OpenAIChunkWriter("msg_" + Guid.NewGuid().ToString("N"), _context.Deployment?.UpstreamModel ?? "", _created, _context.Chat?.IncludeUsage == true, _context);

    private void OnBlockStart(ref Utf8JsonReader reader, IBufferWriter<byte> output)
    {
        _block = BlockKind.Other;
        _toolGotArguments = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!reader.ValueTextEquals("content_block"u8)) { reader.Read(); reader.Skip(); continue; }
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
            var kind = BlockKind.Other;
            string? id = null, name = null;
            var textLength = 0;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("type"u8))
                {
                    reader.Read();
                    if (reader.ValueTextEquals("text"u8)) kind = BlockKind.Text;
                    else if (reader.ValueTextEquals("tool_use"u8) || reader.ValueTextEquals("server_tool_use"u8)) kind = BlockKind.Tool;
                    else if (reader.ValueTextEquals("thinking"u8)) kind = BlockKind.Thinking;
                }
                else if (reader.ValueTextEquals("id"u8)) { reader.Read(); id = reader.GetString(); }
                else if (reader.ValueTextEquals("name"u8)) { reader.Read(); name = reader.GetString(); }
                else if (reader.ValueTextEquals("text"u8) || reader.ValueTextEquals("thinking"u8)) { reader.Read(); textLength = CopyString(ref reader); }
                else { reader.Read(); reader.Skip(); }
            }
            _block = kind;
            if (kind == BlockKind.Tool)
            {
                if (_jsonTool && name == AnthropicRequestWriter.JsonToolName)
                {
                    _block = BlockKind.JsonTool;
                }
                else
                {
                    _toolIndex = Chunks.ToolCallStart(output, id, name ?? "");
                    ContentStarted = true;
                }
            }
            else if (kind == BlockKind.Text && textLength > 0)
            {
                Chunks.Text(output, _chars.AsSpan(0, textLength));
                ContentStarted = true;
            }
            else if (kind == BlockKind.Thinking && textLength > 0)
            {
                Chunks.Reasoning(output, _chars.AsSpan(0, textLength));
                ContentStarted = true;
            }
        }
    }

    private void OnBlockDelta(ref Utf8JsonReader reader, IBufferWriter<byte> output)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!reader.ValueTextEquals("delta"u8)) { reader.Read(); reader.Skip(); continue; }
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
            var isSignature = false;
            var length = -1;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                // Each delta carries its type and one string (text, partial_json, thinking or signature): the block decides its meaning.
                if (reader.ValueTextEquals("text"u8) || reader.ValueTextEquals("partial_json"u8) || reader.ValueTextEquals("thinking"u8))
                {
                    reader.Read();
                    length = CopyString(ref reader);
                }
                else if (reader.ValueTextEquals("signature"u8))
                {
                    reader.Read();
                    length = CopyString(ref reader);
                    isSignature = true;
                }
                else { reader.Read(); reader.Skip(); }
            }
            if (length < 0) continue;
            var value = _chars.AsSpan(0, length);
            switch (_block)
            {
                case BlockKind.Text:
                case BlockKind.JsonTool:
                    if (value.IsEmpty) break;
                    Chunks.Text(output, value);
                    ContentStarted = true;
                    break;
                case BlockKind.Tool:
                    if (value.IsEmpty) break;
                    Chunks.ToolCallArguments(output, _toolIndex, value);
                    _toolGotArguments = true;
                    break;
                case BlockKind.Thinking:
                    if (isSignature) Chunks.Reasoning(output, default, value.ToString());
                    else if (!value.IsEmpty) Chunks.Reasoning(output, value);
                    else break;
                    ContentStarted = true;
                    break;
            }
        }
    }

    private void OnBlockStop(IBufferWriter<byte> output)
    {
        // A tool called with no input streams no JSON at all; OpenAI clients expect arguments to parse.
        if (_block == BlockKind.Tool && !_toolGotArguments) Chunks.ToolCallArguments(output, _toolIndex, "{}");
        _block = BlockKind.None;
    }

    private void OnMessageDelta(ref Utf8JsonReader reader)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("delta"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("stop_reason"u8))
                    {
                        reader.Read();
                        if (reader.TokenType == JsonTokenType.String) _stopReason = reader.GetString();
                    }
                    else { reader.Read(); reader.Skip(); }
                }
            }
            else if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                _usage.Read(ref reader);
            }
            else { reader.Read(); reader.Skip(); }
        }
    }

    private void OnMessageStop(IBufferWriter<byte> output)
    {
        _stopped = true;
        var chunks = Chunks;
        chunks.Finish(output, _jsonTool && !chunks.SawToolCall ? "stop" : AnthropicResponseReader.FinishReason(_stopReason));
        var usage = _usage.ToUsage();
        _context.Usage = usage;
        chunks.Usage(output, usage);
        OpenAIChunkWriter.Done(output);
        ContentStarted = true;
    }



    /// <summary>Unescapes the current string token into the pooled char buffer; returns its length.</summary>
    private int CopyString(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String) { reader.Skip(); return 0; }
        var bytes = reader.HasValueSequence ? (int)reader.ValueSequence.Length : reader.ValueSpan.Length;
        if (_chars.Length < bytes)
        {
            ArrayPool<char>.Shared.Return(_chars);
            _chars = ArrayPool<char>.Shared.Rent(bytes);
        }
        return reader.CopyString(_chars);
    }

    protected override void OnEnd(IBufferWriter<byte> output)
    {
        if (_stopped) return;
        throw new LlmError
        {
            Kind = ErrorKind.BadGateway,
            Provider = _provider,
            Message = _provider + " stream ended before message_stop; the answer is incomplete",
        }.ToException();
    }

    public override void Dispose()
    {
        var chars = _chars;
        _chars = [];
        if (chars.Length > 0) ArrayPool<char>.Shared.Return(chars);
        base.Dispose();
    }
}
