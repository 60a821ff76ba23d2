using System.Text.Json;

namespace LLMux.Stages.Streaming;

/// <summary>A quoted JSON string token as it stands in a chunk (start and length, quotes included).</summary>
internal readonly record struct TokenRange(int Start, int Length)
{
    /// <summary>A quoted JSON string token; "" is two bytes.</summary>
    public bool IsEmptyString => Length <= 2;
    public ReadOnlySpan<byte> Of(ReadOnlySpan<byte> payload) => payload.Slice(Start, Length);
}

/// <summary>One entry of a chunk's <c>delta.tool_calls</c>.</summary>
internal record struct ChatToolDelta(int Index, TokenRange Id, TokenRange Name, TokenRange Arguments);

/// <summary>One entry of a chunk's <c>delta.thinking_blocks</c> (thinking with its signature, or redacted data).</summary>
internal record struct ChatThinkingPiece(bool Redacted, TokenRange Text, TokenRange Signature, TokenRange Data);

/// <summary>
/// Reads the <c>delta</c> object of an OpenAI chat chunk for the inbound translators that turn chat streams into
/// another API's events (<c>/v1/messages</c>, <c>/v1/responses</c>): text and reasoning as string tokens of the
/// chunk, thinking blocks and tool-call deltas into the caller's lists. Nothing is decoded or copied here.
/// </summary>
internal static class ChatChunkDelta
{
    public static void Read(ref Utf8JsonReader reader, ref TokenRange content, ref TokenRange reasoning, List<ChatThinkingPiece> thinking, List<ChatToolDelta> tools)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("content"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String) content = StringToken(ref reader);
                else reader.Skip();
            }
            else if (reader.ValueTextEquals("reasoning_content"u8) || reader.ValueTextEquals("reasoning"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String && reasoning.IsEmptyString) reasoning = StringToken(ref reader);
                else reader.Skip();
            }
            else if (reader.ValueTextEquals("thinking_blocks"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartArray) { reader.Skip(); continue; }
                while (reader.Read() && reader.TokenType == JsonTokenType.StartObject) thinking.Add(ReadThinking(ref reader));
            }
            else if (reader.ValueTextEquals("tool_calls"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartArray) { reader.Skip(); continue; }
                while (reader.Read() && reader.TokenType == JsonTokenType.StartObject) tools.Add(ReadToolDelta(ref reader));
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    private static ChatThinkingPiece ReadThinking(ref Utf8JsonReader reader)
    {
        var piece = new ChatThinkingPiece();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                piece.Redacted = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("redacted_thinking"u8);
            }
            else if (reader.ValueTextEquals("thinking"u8)) piece.Text = ReadString(ref reader);
            else if (reader.ValueTextEquals("signature"u8)) piece.Signature = ReadString(ref reader);
            else if (reader.ValueTextEquals("data"u8)) piece.Data = ReadString(ref reader);
            else { reader.Read(); reader.Skip(); }
        }
        return piece;
    }

    private static ChatToolDelta ReadToolDelta(ref Utf8JsonReader reader)
    {
        var delta = new ChatToolDelta(-1, default, default, default);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("index"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var i)) delta.Index = i;
            }
            else if (reader.ValueTextEquals("id"u8)) delta.Id = ReadString(ref reader);
            else if (reader.ValueTextEquals("function"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("name"u8)) delta.Name = ReadString(ref reader);
                    else if (reader.ValueTextEquals("arguments"u8)) delta.Arguments = ReadString(ref reader);
                    else { reader.Read(); reader.Skip(); }
                }
            }
            else { reader.Read(); reader.Skip(); }
        }
        return delta;
    }

    /// <summary>Reads the next value; a string gives its quoted token, anything else is skipped.</summary>
    public static TokenRange ReadString(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String) return StringToken(ref reader);
        reader.Skip();
        return default;
    }

    /// <summary>The string token with its quotes and escapes, as it stands in the chunk: copied to the event without decoding.</summary>
    public static TokenRange StringToken(ref Utf8JsonReader reader) => new((int)reader.TokenStartIndex, reader.ValueSpan.Length + 2);
}
