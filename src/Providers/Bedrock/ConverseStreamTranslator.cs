using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Streaming;
using LLMux.Pipeline.Streaming.Decoders;
using LLMux.Providers.Common;

namespace LLMux.Providers.Bedrock;

/// <summary>
/// ConverseStream eventstream messages → OpenAI chunks: text and reasoning deltas, tool calls (id and name on
/// <c>contentBlockStart</c>, input fragments as argument deltas, <c>{}</c> for a tool without input),
/// the finish reason on <c>messageStop</c>, usage on <c>metadata</c>. Exception messages become errors of their
/// kind; a stream that ends without <c>messageStop</c> is an error.
/// </summary>
internal sealed class ConverseStreamTranslator : EventStreamTranslator
{
    private readonly LlmContext _context;
    private readonly OpenAIChunkWriter _writer;
    private readonly bool _jsonMode;
    private char[] _chars = ArrayPool<char>.Shared.Rent(1024);
    private int _currentTool = -1;
    private bool _currentToolHasInput;
    private bool _jsonBlock;
    private bool _sawStop;

    public ConverseStreamTranslator(LlmContext context, string model, bool jsonMode)
    {
        _context = context;
        _jsonMode = jsonMode;
        _writer = new OpenAIChunkWriter("chatcmpl-" + Guid.NewGuid().ToString("N"), model, context.TimeProvider.GetUtcNow().ToUnixTimeSeconds(), includeUsage: context.Chat?.IncludeUsage == true, context);
    }

    protected override void OnMessage(in EventStreamMessage msg, IBufferWriter<byte> output)
    {
        if (msg.IsException || msg.IsError) ThrowUpstreamError(in msg);
        if (msg.EventTypeIs("contentBlockDelta"u8)) OnDelta(msg.Payload, output);
        else if (msg.EventTypeIs("contentBlockStart"u8)) OnBlockStart(msg.Payload, output);
        else if (msg.EventTypeIs("contentBlockStop"u8)) OnBlockStop(output);
        else if (msg.EventTypeIs("messageStop"u8)) OnMessageStop(msg.Payload, output);
        else if (msg.EventTypeIs("metadata"u8)) OnMetadata(msg.Payload, output);
        // messageStart carries only the role, which the first delta writes.
    }

    private static void ThrowUpstreamError(in EventStreamMessage msg)
    {
        var type = msg.IsException ? Encoding.UTF8.GetString(msg.ExceptionType) : Encoding.UTF8.GetString(msg.ErrorCode);
        if (type.Length == 0) type = "unknownException";
        var payload = msg.Payload.ToArray();
        if (msg.IsError && payload.Length == 0) payload = Encoding.UTF8.GetBytes(new JsonObject { ["message"] = Encoding.UTF8.GetString(msg.ErrorMessage) }.ToJsonString());
        throw BedrockErrorMapper.FromStreamException(type, payload).ToException();
    }

    private void OnDelta(ReadOnlySequence<byte> payload, IBufferWriter<byte> output)
    {
        var reader = new Utf8JsonReader(payload);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw NotJson("contentBlockDelta");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!reader.ValueTextEquals("delta"u8)) { reader.Read(); reader.Skip(); continue; }
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("text"u8))
                {
                    reader.Read();
                    _writer.Text(output, ReadChars(ref reader));
                    ContentStarted = true;
                }
                else if (reader.ValueTextEquals("toolUse"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        if (!reader.ValueTextEquals("input"u8)) { reader.Read(); reader.Skip(); continue; }
                        reader.Read();
                        var fragment = ReadChars(ref reader);
                        if (_jsonBlock) _writer.Text(output, fragment);
                        else if (_currentTool >= 0 && !fragment.IsEmpty)
                        {
                            _writer.ToolCallArguments(output, _currentTool, fragment);
                            _currentToolHasInput = true;
                        }
                        ContentStarted = true;
                    }
                }
                else if (reader.ValueTextEquals("reasoningContent"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        if (reader.ValueTextEquals("text"u8))
                        {
                            reader.Read();
                            _writer.Reasoning(output, ReadChars(ref reader));
                            ContentStarted = true;
                        }
                        else if (reader.ValueTextEquals("signature"u8))
                        {
                            reader.Read();
                            _writer.Reasoning(output, default, reader.GetString());
                            ContentStarted = true;
                        }
                        else { reader.Read(); reader.Skip(); }
                    }
                }
                else { reader.Read(); reader.Skip(); }
            }
        }
    }

    private void OnBlockStart(ReadOnlySequence<byte> payload, IBufferWriter<byte> output)
    {
        var reader = new Utf8JsonReader(payload);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw NotJson("contentBlockStart");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!reader.ValueTextEquals("start"u8)) { reader.Read(); reader.Skip(); continue; }
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (!reader.ValueTextEquals("toolUse"u8)) { reader.Read(); reader.Skip(); continue; }
                reader.Read();
                string? id = null, name = null;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("toolUseId"u8)) { reader.Read(); id = reader.GetString(); }
                    else if (reader.ValueTextEquals("name"u8)) { reader.Read(); name = reader.GetString(); }
                    else { reader.Read(); reader.Skip(); }
                }
                name ??= "";
                if (_jsonMode && name == ConverseRequestWriter.JsonToolName)
                {
                    _jsonBlock = true;
                    continue;
                }
                _currentTool = _writer.ToolCallStart(output, id, BedrockToolNames.Original(_context.Chat, name));
                _currentToolHasInput = false;
                ContentStarted = true;
            }
        }
    }

    private void OnBlockStop(IBufferWriter<byte> output)
    {
        if (_currentTool >= 0 && !_currentToolHasInput) _writer.ToolCallArguments(output, _currentTool, "{}");
        _currentTool = -1;
        _jsonBlock = false;
    }

    private void OnMessageStop(ReadOnlySequence<byte> payload, IBufferWriter<byte> output)
    {
        var reader = new Utf8JsonReader(payload);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw NotJson("messageStop");
        var finish = "stop";
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("stopReason"u8))
            {
                reader.Read();
                finish = reader.HasValueSequence || reader.ValueIsEscaped
                    ? ConverseStopReasons.ToFinishReason(reader.GetString())
                    : ConverseStopReasons.ToFinishReason(reader.ValueSpan);
            }
            else { reader.Read(); reader.Skip(); }
        }
        if (_jsonMode && finish == "tool_calls" && !_writer.SawToolCall) finish = "stop";
        _writer.Finish(output, finish);
        _sawStop = true;
        ContentStarted = true;
    }

    private void OnMetadata(ReadOnlySequence<byte> payload, IBufferWriter<byte> output)
    {
        var reader = new Utf8JsonReader(payload);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw NotJson("metadata");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!reader.ValueTextEquals("usage"u8)) { reader.Read(); reader.Skip(); continue; }
            reader.Read();
            var usage = ConverseUsage.Read(ref reader);
            _context.Usage = usage;
            _writer.Usage(output, usage);
        }
    }

    protected override void OnEnd(IBufferWriter<byte> output)
    {
        if (!_sawStop)
        {
            throw new LlmError
            {
                Kind = ErrorKind.BadGateway,
                Provider = "bedrock",
                Message = "bedrock stream ended before messageStop; the answer is incomplete",
            }.ToException();
        }
        OpenAIChunkWriter.Done(output);
    }

    /// <summary>The current string token, unescaped, in the reusable char buffer (valid until the next call).</summary>
    private ReadOnlySpan<char> ReadChars(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String) return default;
        var max = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
        if (_chars.Length < max)
        {
            ArrayPool<char>.Shared.Return(_chars);
            _chars = ArrayPool<char>.Shared.Rent(max);
        }
        var n = reader.CopyString(_chars);
        return _chars.AsSpan(0, n);
    }

    private static LlmException NotJson(string eventType) => new LlmError
    {
        Kind = ErrorKind.BadGateway,
        Provider = "bedrock",
        Message = $"bedrock sent a {eventType} event whose payload is not a JSON object",
    }.ToException();

    public override void Dispose()
    {
        if (_chars.Length > 0) ArrayPool<char>.Shared.Return(_chars);
        _chars = [];
        base.Dispose();
    }
}
