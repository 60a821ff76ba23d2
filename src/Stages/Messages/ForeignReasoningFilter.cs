using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Json;

namespace LLMux.Stages.Messages;

/// <summary>
/// For a body forwarded as it is to an Anthropic upstream: thinking blocks whose signature another provider
/// made (tagged by <see cref="ReasoningSignature"/>, after a fallback or a change of model) are taken out of the
/// history, since Anthropic refuses a signature it did not issue. When that empties the reasoning of the last
/// assistant turn, <c>thinking</c> is turned off for the call, as Anthropic requires a tool-use turn under
/// thinking to start with a signed block.
/// </summary>
internal static class ForeignReasoningFilter
{
    /// <summary>The body without foreign reasoning, or null when it has none (the common case: one search of the bytes).</summary>
    public static PooledBuffer? Filter(ReadOnlySpan<byte> body, JsonElement root, out bool thinkingRemoved)
    {
        thinkingRemoved = false;
        if (body.IndexOf("\"llmux1:"u8) < 0) return null;
        var messages = root.GetProperty("messages");
        var lastAssistant = -1;
        var i = 0;
        foreach (var m in messages.EnumerateArray())
        {
            if (m.GetProperty("role").ValueEquals("assistant")) lastAssistant = i;
            i++;
        }
        var strippedLast = false;
        var buffer = new PooledBuffer(body.Length);
        try
        {
            using (var w = new Utf8JsonWriter(buffer, JsonOut.Options))
            {
                w.WriteStartObject();
                foreach (var property in root.EnumerateObject())
                {
                    if (property.Name == "messages")
                    {
                        w.WriteStartArray("messages"u8);
                        i = 0;
                        foreach (var m in messages.EnumerateArray())
                        {
                            if (WriteMessage(w, m)) strippedLast |= i == lastAssistant;
                            i++;
                        }
                        w.WriteEndArray();
                    }
                    else if (property.Name != "thinking") property.WriteTo(w);
                }
                if (root.TryGetProperty("thinking", out var thinking))
                {
                    if (strippedLast && thinking.ValueKind == JsonValueKind.Object && !(thinking.TryGetProperty("type", out var t) && t.ValueEquals("disabled"))) thinkingRemoved = true;
                    else
                    {
                        w.WritePropertyName("thinking"u8);
                        thinking.WriteTo(w);
                    }
                }
                w.WriteEndObject();
            }
            return buffer;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    /// <summary>Writes one message without foreign reasoning blocks; true when one was left out.</summary>
    private static bool WriteMessage(Utf8JsonWriter w, JsonElement m)
    {
        if (!m.GetProperty("role").ValueEquals("assistant") || m.GetProperty("content") is not { ValueKind: JsonValueKind.Array } content)
        {
            m.WriteTo(w);
            return false;
        }
        var stripped = false;
        w.WriteStartObject();
        foreach (var property in m.EnumerateObject())
        {
            if (property.Name != "content") { property.WriteTo(w); continue; }
            w.WriteStartArray("content"u8);
            foreach (var block in content.EnumerateArray())
            {
                if (IsForeign(block)) { stripped = true; continue; }
                block.WriteTo(w);
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
        return stripped;
    }

    private static bool IsForeign(JsonElement block)
    {
        if (!block.TryGetProperty("type", out var type)) return false;
        var field = type.ValueEquals("thinking") ? "signature" : type.ValueEquals("redacted_thinking") ? "data" : null;
        return field is not null && block.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String && ReasoningSignature.IsTagged(v.GetString());
    }
}
