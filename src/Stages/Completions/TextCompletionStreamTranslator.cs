using System.Buffers;
using System.Text.Json;
using LLMux.Pipeline.Json;
using LLMux.Pipeline.Streaming;
using LLMux.Stages.Streaming;

namespace LLMux.Stages.Completions;

/// <summary>
/// A chat stream (bridge or FIM) as <c>text_completion</c> chunks: each chat chunk's <c>delta.content</c> becomes
/// <c>choices[].text</c> at index <c>prompt × n + choice</c>, its finish reason kept; a usage chunk keeps
/// <c>choices: []</c>. Role-only chunks are skipped. <c>[DONE]</c> is written only after the last prompt.
/// </summary>
internal sealed class TextCompletionStreamTranslator(StreamTranslator inner, int promptIndex, int n, bool last) : ChatChunkDecorator(inner)
{
    private bool _done;
    private string? _id;

    private static string? Decode(ReadOnlySpan<byte> token)
    {
        var r = new Utf8JsonReader(token);
        return r.Read() ? r.GetString() : null;
    }
    private readonly List<(int Index, TokenRange Text, TokenRange Finish)> _choices = new(1);

    protected override void OnChunk(ReadOnlySpan<byte> payload, IBufferWriter<byte> output)
    {
        var reader = new Utf8JsonReader(payload);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return;
        TokenRange id = default, model = default, usage = default;
        long created = 0;
        var sawChoices = false;
        _choices.Clear();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("id"u8)) { reader.Read(); if (reader.TokenType == JsonTokenType.String) id = Token(ref reader); }
            else if (reader.ValueTextEquals("model"u8)) { reader.Read(); if (reader.TokenType == JsonTokenType.String) model = Token(ref reader); }
            else if (reader.ValueTextEquals("created"u8)) { reader.Read(); if (reader.TokenType == JsonTokenType.Number) reader.TryGetInt64(out created); }
            else if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    var start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    usage = new TokenRange(start, (int)reader.TokenStartIndex + 1 - start);
                }
                else reader.Skip();
            }
            else if (reader.ValueTextEquals("choices"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartArray) { reader.Skip(); continue; }
                sawChoices = true;
                while (reader.Read() && reader.TokenType == JsonTokenType.StartObject) ReadChoice(ref reader);
            }
            else { reader.Read(); reader.Skip(); }
        }

        var hasContent = false;
        foreach (var c in _choices) if (!c.Text.IsEmptyString || c.Finish.Length > 0) hasContent = true;
        var usageOnly = usage.Length > 0 && sawChoices && _choices.Count == 0;
        if (!hasContent && !usageOnly) return;

        output.Write("data: "u8);
        using (var w = new Utf8JsonWriter(output, JsonOut.Unchecked))
        {
            w.WriteStartObject();
            // One id for the whole stream (decoded once, from the first chunk that has one).
            _id ??= TextCompletionIds.From(id.Length > 0 ? Decode(id.Of(payload)) : null);
            w.WriteString("id"u8, _id);
            w.WriteString("object"u8, "text_completion"u8);
            w.WriteNumber("created"u8, created);
            w.WritePropertyName("model"u8);
            if (model.Length > 0) w.WriteRawValue(model.Of(payload), skipInputValidation: true);
            else w.WriteStringValue(""u8);
            w.WriteStartArray("choices"u8);
            foreach (var (index, text, finish) in _choices)
            {
                if (text.IsEmptyString && finish.Length == 0) continue;
                w.WriteStartObject();
                w.WritePropertyName("text"u8);
                if (text.Length > 0) w.WriteRawValue(text.Of(payload), skipInputValidation: true);
                else w.WriteStringValue(""u8);
                w.WriteNumber("index"u8, promptIndex * n + index);
                w.WriteNull("logprobs"u8);
                w.WritePropertyName("finish_reason"u8);
                if (finish.Length > 0 && !finish.Of(payload).SequenceEqual("\"tool_calls\""u8)) w.WriteRawValue(finish.Of(payload), skipInputValidation: true);
                else if (finish.Length > 0) w.WriteStringValue("stop"u8);
                else w.WriteNullValue();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (usage.Length > 0)
            {
                w.WritePropertyName("usage"u8);
                w.WriteRawValue(usage.Of(payload), skipInputValidation: true);
            }
            w.WriteEndObject();
        }
        output.Write("\n\n"u8);
        ContentStarted = true;
    }

    private void ReadChoice(ref Utf8JsonReader reader)
    {
        var index = 0;
        TokenRange text = default, finish = default;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("index"u8)) { reader.Read(); if (reader.TokenType == JsonTokenType.Number) reader.TryGetInt32(out index); }
            else if (reader.ValueTextEquals("finish_reason"u8)) { reader.Read(); if (reader.TokenType == JsonTokenType.String) finish = Token(ref reader); }
            else if (reader.ValueTextEquals("delta"u8) || reader.ValueTextEquals("message"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var isContent = reader.ValueTextEquals("content"u8);
                    reader.Read();
                    if (isContent && reader.TokenType == JsonTokenType.String) text = Token(ref reader);
                    else reader.Skip();
                }
            }
            else { reader.Read(); reader.Skip(); }
        }
        _choices.Add((index, text, finish));
    }

    /// <summary>A string token with its quotes, as it stands in the payload.</summary>
    private static TokenRange Token(ref Utf8JsonReader reader) =>
        new((int)reader.TokenStartIndex, (reader.HasValueSequence ? (int)reader.ValueSequence.Length : reader.ValueSpan.Length) + 2);

    protected override void End(IBufferWriter<byte> output)
    {
        if (_done) return;
        _done = true;
        if (last) output.Write("data: [DONE]\n\n"u8);
    }
}
