using System.Text.Json;
using Microsoft.ML.Tokenizers;

namespace LLMux.Stages.Messages;

/// <summary>
/// <c>/v1/messages/count_tokens</c> for upstreams that cannot count: an estimate with OpenAI's o200k_base
/// tokenizer (Microsoft.ML.Tokenizers, data shipped in the package, no download). Claude's tokenizer is not
/// public, so figures differ by some percent; images count a flat 1,600 tokens (Anthropic's cost of a
/// ~1.15 megapixel image) and PDFs 1,600 per started 50 KB of decoded data (about a page).
/// </summary>
internal static class MessagesTokenEstimator
{
    public const int ImageTokens = 1600;
    private const int PdfBytesPerPage = 50 * 1024;
    /// <summary>Role and separator tokens around each turn (as OpenAI's chat format counts them).</summary>
    private const int PerMessage = 3;
    private const int PerRequest = 3;

    public static long Count(JsonElement root)
    {
        var tok = Tokenization.O200k.Value;
        long total = PerRequest;
        if (root.TryGetProperty("system", out var system))
        {
            total += PerMessage;
            if (system.ValueKind == JsonValueKind.String) total += Text(tok, system);
            else if (system.ValueKind == JsonValueKind.Array)
                foreach (var block in system.EnumerateArray()) total += Text(tok, block.GetProperty("text"));
        }
        foreach (var m in root.GetProperty("messages").EnumerateArray())
        {
            total += PerMessage;
            var content = m.GetProperty("content");
            if (content.ValueKind == JsonValueKind.String) total += Text(tok, content);
            else foreach (var block in content.EnumerateArray()) total += Block(tok, block);
        }
        if (root.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array)
        {
            foreach (var tool in tools.EnumerateArray())
            {
                total += Text(tok, tool.GetProperty("name"));
                if (tool.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String) total += Text(tok, d);
                if (tool.TryGetProperty("input_schema", out var schema)) total += tok.CountTokens(schema.GetRawText());
            }
        }
        return total;
    }

    private static long Block(Tokenizer tok, JsonElement block)
    {
        var type = block.GetProperty("type");
        if (type.ValueEquals("text")) return Text(tok, block.GetProperty("text"));
        if (type.ValueEquals("thinking")) return Text(tok, block.GetProperty("thinking"));
        if (type.ValueEquals("image")) return ImageTokens;
        if (type.ValueEquals("tool_use")) return Text(tok, block.GetProperty("name")) + tok.CountTokens(block.GetProperty("input").GetRawText());
        if (type.ValueEquals("tool_result"))
        {
            if (!block.TryGetProperty("content", out var c)) return 0;
            if (c.ValueKind == JsonValueKind.String) return Text(tok, c);
            long sum = 0;
            if (c.ValueKind == JsonValueKind.Array) foreach (var inner in c.EnumerateArray()) sum += Block(tok, inner);
            return sum;
        }
        if (type.ValueEquals("document"))
        {
            var source = block.GetProperty("source");
            var st = source.GetProperty("type");
            if (st.ValueEquals("text")) return Text(tok, source.GetProperty("data"));
            if (st.ValueEquals("base64"))
            {
                var decoded = source.GetProperty("data").GetString()!.Length * 3L / 4;
                return ImageTokens * Math.Max(1, (decoded + PdfBytesPerPage - 1) / PdfBytesPerPage);
            }
            if (st.ValueEquals("content") && source.GetProperty("content") is { } inner)
            {
                if (inner.ValueKind == JsonValueKind.String) return Text(tok, inner);
                long sum = 0;
                foreach (var part in inner.EnumerateArray()) sum += Block(tok, part);
                return sum;
            }
            return ImageTokens;
        }
        return 0; // redacted thinking: opaque, not re-read as prompt text
    }

    private static int Text(Tokenizer tok, JsonElement text) =>
        text.ValueKind == JsonValueKind.String ? tok.CountTokens(text.GetString()!) : 0;
}
