using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;
using LLMux.Pipeline.Json;

namespace LLMux.Stages.Responses;

/// <summary>
/// The <c>encrypted_content</c> of a bridged reasoning item: LLMux's own carrier for a provider's opaque
/// reasoning state (Anthropic thinking signatures and redacted_thinking, Gemini thoughtSignature, Bedrock
/// reasoningContent signatures), so that a stateless client (<c>store: false</c>) can hand it back.
/// <c>llmux.v1.</c> + base64url of <c>{"p":"&lt;provider&gt;","b":[thinking blocks as the chat layer carries them]}</c>.
/// It is tagged with the provider that produced it and only ever given back to that provider; another
/// provider cannot verify a foreign signature, so the blocks are left out for it. Not a secret: the client
/// already saw the reasoning text as the summary.
/// </summary>
internal static class ReasoningEnvelope
{
    private const string Prefix = "llmux.v1.";

    /// <summary>The envelope for <paramref name="blocks"/> (the chat layer's <c>thinking_blocks</c> array), or null when there is nothing opaque to keep.</summary>
    public static string? Encode(string provider, JsonElement blocks)
    {
        if (blocks.ValueKind != JsonValueKind.Array || blocks.GetArrayLength() == 0) return null;
        var opaque = false;
        foreach (var b in blocks.EnumerateArray())
            if (b.ValueKind == JsonValueKind.Object && (b.TryGetProperty("signature", out var s) && s.ValueKind == JsonValueKind.String && s.GetString()!.Length > 0 || b.TryGetProperty("data", out _))) opaque = true;
        if (!opaque) return null;
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, JsonOut.Options))
        {
            w.WriteStartObject();
            w.WriteString("p"u8, provider);
            w.WritePropertyName("b"u8);
            blocks.WriteTo(w);
            w.WriteEndObject();
        }
        return Prefix + Base64Url.EncodeToString(buffer.WrittenSpan);
    }

    /// <summary>The thinking blocks of an envelope made for <paramref name="provider"/>; null for another provider's, OpenAI's own, or an unreadable value.</summary>
    public static JsonDocument? Decode(string? encrypted, string? provider)
    {
        if (provider is null || encrypted is null || !encrypted.StartsWith(Prefix, StringComparison.Ordinal)) return null;
        byte[] json;
        try
        {
            json = Base64Url.DecodeFromChars(encrypted.AsSpan(Prefix.Length));
        }
        catch (FormatException)
        {
            return null;
        }
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException)
        {
            return null;
        }
        if (doc.RootElement.ValueKind == JsonValueKind.Object
            && doc.RootElement.TryGetProperty("p", out var p) && p.ValueKind == JsonValueKind.String && p.ValueEquals(provider)
            && doc.RootElement.TryGetProperty("b", out var b) && b.ValueKind == JsonValueKind.Array)
            return doc;
        doc.Dispose();
        return null;
    }

    public static bool IsOurs(string? encrypted) => encrypted is not null && encrypted.StartsWith(Prefix, StringComparison.Ordinal);
}
