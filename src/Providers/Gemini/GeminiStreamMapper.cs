using System.Buffers;
using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;
using LLMux.Providers.Common;

namespace LLMux.Providers.Gemini;

/// <summary>
/// Maps each streamed <c>GenerateContentResponse</c> (whatever framed it: SSE or the JSON array) to OpenAI chunks.
/// Gemini has no end event: the stream is complete once a candidate gave a <c>finishReason</c> or the prompt was
/// blocked; a stream that ends without either is an error. Candidate 0 only (one choice per stream).
/// </summary>
internal sealed class GeminiStreamMapper : IDisposable
{
    private readonly LlmContext _context;
    private readonly string _provider;
    private readonly string _model;
    private OpenAIChunkWriter? _chunks;
    private byte[] _scratch = ArrayPool<byte>.Shared.Rent(1024);
    private char[] _chars = ArrayPool<char>.Shared.Rent(1024);
    private readonly ArrayBufferWriter<byte> _args = new(256);
    private Utf8JsonWriter? _argsWriter;
    private string? _finishReason;
    private bool _blocked;
    private GeminiUsage? _usage;

    public GeminiStreamMapper(LlmContext context, string provider, string model)
    {
        _context = context;
        _provider = provider;
        _model = model;
    }

    public bool ContentStarted { get; private set; }

    /// <summary>One event: the JSON text of a <c>GenerateContentResponse</c> (or an error object).</summary>
    public void OnEvent(ReadOnlySequence<byte> json, IBufferWriter<byte> output)
    {
        if (json.IsEmpty) return;
        if (json.IsSingleSegment)
        {
            Map(json.FirstSpan, output);
            return;
        }
        var length = (int)json.Length;
        var copy = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            json.CopyTo(copy);
            Map(copy.AsSpan(0, length), output);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(copy);
        }
    }

    public void OnEnd(IBufferWriter<byte> output)
    {
        if (_chunks is null || (_finishReason is null && !_blocked))
        {
            throw new LlmError
            {
                Kind = ErrorKind.BadGateway,
                Provider = _provider,
                Message = $"{_provider} stream ended before a finishReason (the connection was cut or the answer is incomplete)",
            }.ToException();
        }
        _chunks.Finish(output, _blocked ? "content_filter" : GeminiFinishReasons.Map(_finishReason));
        if (_usage is { } u)
        {
            var usage = u.ToUsage();
            _context.Usage = usage;
            _chunks.Usage(output, usage);
        }
        OpenAIChunkWriter.Done(output);
    }

    private void Map(ReadOnlySpan<byte> json, IBufferWriter<byte> output)
    {
        try
        {
            if (_chunks is null) _chunks = new OpenAIChunkWriter(ResponseId(json) ?? "chatcmpl-" + Guid.NewGuid().ToString("N"), _model, _context.TimeProvider.GetUtcNow().ToUnixTimeSeconds(), _context.Chat?.IncludeUsage == true, _context);
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new JsonException("event is not a JSON object");
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("candidates"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartArray) { reader.Skip(); continue; }
                    var first = true;
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        if (first && reader.TokenType == JsonTokenType.StartObject) ReadCandidate(ref reader, json, output);
                        else reader.Skip();
                        first = false;
                    }
                }
                else if (reader.ValueTextEquals("usageMetadata"u8))
                {
                    reader.Read();
                    _usage = GeminiUsage.Read(ref reader);
                }
                else if (reader.ValueTextEquals("promptFeedback"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        if (reader.ValueTextEquals("blockReason"u8)) { reader.Read(); _blocked |= reader.TokenType == JsonTokenType.String; }
                        else { reader.Read(); reader.Skip(); }
                    }
                }
                else if (reader.ValueTextEquals("error"u8))
                {
                    throw GeminiErrorMapper.Map(_provider, 0, json, null).ToException();
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException ex)
        {
            throw new LlmError { Kind = ErrorKind.BadGateway, Provider = _provider, Message = $"{_provider} sent a stream event that is not valid JSON ({ex.Message})" }.ToException(ex);
        }
    }

    private static string? ResponseId(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isId = reader.ValueTextEquals("responseId"u8);
            reader.Read();
            if (isId && reader.TokenType == JsonTokenType.String) return reader.GetString();
            reader.Skip();
        }
        return null;
    }

    private void ReadCandidate(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, IBufferWriter<byte> output)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("content"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (!reader.ValueTextEquals("parts"u8)) { reader.Read(); reader.Skip(); continue; }
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartArray) { reader.Skip(); continue; }
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        if (reader.TokenType == JsonTokenType.StartObject) ReadPart(ref reader, json, output);
                        else reader.Skip();
                    }
                }
            }
            else if (reader.ValueTextEquals("finishReason"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String) _finishReason = reader.GetString();
                if (GeminiFinishReasons.Blocks(_finishReason) && !ContentStarted) _blocked = true;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    /// <summary>One part; its fields may come in any order, so the part is written once it is read whole.</summary>
    private void ReadPart(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, IBufferWriter<byte> output)
    {
        var textLength = -1;
        var thought = false;
        string? signature = null, callName = null, callId = null;
        var argsStart = -1;
        var argsEnd = -1;
        string? inlineMime = null, inlineData = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("text"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String) continue;
                var max = reader.HasValueSequence ? (int)reader.ValueSequence.Length : reader.ValueSpan.Length;
                if (_scratch.Length < max)
                {
                    ArrayPool<byte>.Shared.Return(_scratch);
                    _scratch = ArrayPool<byte>.Shared.Rent(max);
                }
                textLength = reader.CopyString(_scratch);
            }
            else if (reader.ValueTextEquals("thought"u8)) { reader.Read(); thought = reader.TokenType == JsonTokenType.True; }
            else if (reader.ValueTextEquals("thoughtSignature"u8)) { reader.Read(); signature = reader.TokenType == JsonTokenType.String ? reader.GetString() : null; }
            else if (reader.ValueTextEquals("functionCall"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("name"u8)) { reader.Read(); callName = reader.GetString(); }
                    else if (reader.ValueTextEquals("id"u8)) { reader.Read(); callId = reader.TokenType == JsonTokenType.String ? reader.GetString() : null; }
                    else if (reader.ValueTextEquals("args"u8))
                    {
                        reader.Read();
                        argsStart = (int)reader.TokenStartIndex;
                        reader.Skip();
                        argsEnd = (int)reader.BytesConsumed;
                    }
                    else { reader.Read(); reader.Skip(); }
                }
            }
            else if (reader.ValueTextEquals("inlineData"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("mimeType"u8)) { reader.Read(); inlineMime = reader.GetString(); }
                    else if (reader.ValueTextEquals("data"u8)) { reader.Read(); inlineData = reader.GetString(); }
                    else { reader.Read(); reader.Skip(); }
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        var chunks = _chunks!;
        if (callName is not null)
        {
            var id = callId ?? ToolCallIds.New();
            if (signature is not null) id += GeminiContentsWriter.ThoughtSeparator + signature;
            var args = argsStart < 0 ? "{}"u8 : Compact(json[argsStart..argsEnd]);
            chunks.ToolCallStart(output, id, callName, Chars(args));
            ContentStarted = true;
        }
        else if (inlineData is not null)
        {
            // Non-image media is appended to the content as a data URI, as LiteLLM does.
            var mime = inlineMime ?? "application/octet-stream";
            if (mime.StartsWith("image/", StringComparison.Ordinal) || mime.StartsWith("audio/", StringComparison.Ordinal)) return;
            chunks.Text(output, string.Concat("data:", mime, ";base64,", inlineData));
            ContentStarted = true;
        }
        else if (textLength >= 0)
        {
            var text = _scratch.AsSpan(0, textLength);
            if (thought) chunks.Reasoning(output, Chars(text), signature);
            else
            {
                if (text.IsEmpty) return;
                chunks.Text(output, text);
            }
            ContentStarted = true;
        }
    }

    /// <summary>Re-writes the function arguments compactly (Gemini may pretty-print; OpenAI clients get compact JSON).</summary>
    private ReadOnlySpan<byte> Compact(ReadOnlySpan<byte> raw)
    {
        _args.ResetWrittenCount();
        if (_argsWriter is null) _argsWriter = new Utf8JsonWriter(_args, JsonOut.Options);
        else _argsWriter.Reset(_args);
        var reader = new Utf8JsonReader(raw);
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject: _argsWriter.WriteStartObject(); break;
                case JsonTokenType.EndObject: _argsWriter.WriteEndObject(); break;
                case JsonTokenType.StartArray: _argsWriter.WriteStartArray(); break;
                case JsonTokenType.EndArray: _argsWriter.WriteEndArray(); break;
                case JsonTokenType.PropertyName: _argsWriter.WritePropertyName(Unescaped(ref reader)); break;
                case JsonTokenType.String: _argsWriter.WriteStringValue(Unescaped(ref reader)); break;
                case JsonTokenType.Number: _argsWriter.WriteRawValue(reader.ValueSpan, skipInputValidation: true); break;
                case JsonTokenType.True: _argsWriter.WriteBooleanValue(true); break;
                case JsonTokenType.False: _argsWriter.WriteBooleanValue(false); break;
                case JsonTokenType.Null: _argsWriter.WriteNullValue(); break;
            }
        }
        _argsWriter.Flush();
        return _args.WrittenSpan;
    }

    private static string Unescaped(ref Utf8JsonReader reader) => reader.GetString()!;

    private ReadOnlySpan<char> Chars(ReadOnlySpan<byte> utf8)
    {
        var max = Encoding.UTF8.GetMaxCharCount(utf8.Length);
        if (_chars.Length < max)
        {
            ArrayPool<char>.Shared.Return(_chars);
            _chars = ArrayPool<char>.Shared.Rent(max);
        }
        var n = Encoding.UTF8.GetChars(utf8, _chars);
        return _chars.AsSpan(0, n);
    }

    public void Dispose()
    {
        _argsWriter?.Dispose();
        var s = _scratch;
        _scratch = [];
        if (s.Length > 0) ArrayPool<byte>.Shared.Return(s);
        var c = _chars;
        _chars = [];
        if (c.Length > 0) ArrayPool<char>.Shared.Return(c);
    }
}
