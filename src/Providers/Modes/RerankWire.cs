using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;
using LLMux.Pipeline.Wire;

namespace LLMux.Providers.Modes;

/// <summary>
/// Cohere-shaped rerank on the wire: the upstream body for a <see cref="RerankDialect"/>, and the answer turned back into
/// <c>{id, results[{index, relevance_score, document?}], meta{billed_units}}</c>. Documents in the answer come from the
/// request (upstreams differ on whether they return them), as <c>{text}</c> for strings and as sent for objects.
/// </summary>
public static class RerankWire
{
    public static PooledBuffer WriteBody(LlmContext context, RerankRequest r, RerankDialect dialect, string upstreamModel)
    {
        var buffer = new PooledBuffer(512 + r.Query.Length);
        try
        {
            using var w = new Utf8JsonWriter(buffer, JsonOut.Options);
            w.WriteStartObject();
            w.WriteString("model"u8, upstreamModel);
            w.WriteString("query"u8, r.Query);
            w.WriteStartArray("documents"u8);
            for (var i = 0; i < r.Documents.Count; i++)
            {
                if (dialect.StringDocuments) w.WriteStringValue(r.TextOf(i));
                else r.Documents[i].WriteTo(w);
            }
            w.WriteEndArray();
            if (r.TopN is { } n && !context.IsDropped("top_n")) w.WriteNumber(dialect.TopN, n);
            if (dialect.RankFields && r.RankFields is { } fields && !context.IsDropped("rank_fields"))
            {
                w.WriteStartArray("rank_fields"u8);
                foreach (var f in fields) w.WriteStringValue(f);
                w.WriteEndArray();
            }
            if (dialect.ReturnDocuments && r.Params.Contains("return_documents") && !context.IsDropped("return_documents")) w.WriteBoolean("return_documents"u8, r.ReturnDocuments);
            if (dialect.MaxTokensPerDoc && r.MaxTokensPerDoc is { } t && !context.IsDropped("max_tokens_per_doc")) w.WriteNumber("max_tokens_per_doc"u8, t);
            w.WriteEndObject();
            w.Flush();
            return buffer;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    /// <summary>One scored result, whatever the upstream called its fields.</summary>
    public readonly record struct Scored(int Index, double Score);

    /// <summary>Reads a Cohere-like answer (results or data, <c>relevance_score</c>, usage or meta) into the context.</summary>
    public static void ReadAnswer(LlmContext context, ReadOnlySpan<byte> upstream, RerankRequest r, RerankDialect dialect, string provider)
    {
        using var doc = Parse(upstream, provider);
        var root = doc.RootElement;
        var results = new List<Scored>();
        if (root.TryGetProperty(dialect.Results, out var arr) && arr.ValueKind == JsonValueKind.Array)
        {
            foreach (var e in arr.EnumerateArray())
            {
                if (!e.TryGetProperty("index", out var i) || !i.TryGetInt32(out var index) || index < 0 || index >= r.Documents.Count) continue;
                var score = e.TryGetProperty("relevance_score", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetDouble() : 0;
                results.Add(new Scored(index, score));
            }
        }
        else throw BadAnswer(provider, $"no `{dialect.Results}` array");
        long units = 0, tokens = 0;
        if (root.TryGetProperty("meta", out var meta) && meta.TryGetProperty("billed_units", out var billed))
        {
            if (billed.TryGetProperty("search_units", out var su) && su.TryGetInt64(out var u)) units = u;
            if (billed.TryGetProperty("total_tokens", out var bt) && bt.TryGetInt64(out var bt2)) tokens = bt2;
        }
        if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
        {
            if (usage.TryGetProperty("total_tokens", out var tt) && tt.TryGetInt64(out var t)) tokens = t;
            else if (usage.TryGetProperty("prompt_tokens", out var pt) && pt.TryGetInt64(out var p)) tokens = p;
        }
        var id = root.TryGetProperty("id", out var idv) && idv.ValueKind == JsonValueKind.String ? idv.GetString() : null;
        Write(context, r, results, id, units, tokens);
    }

    /// <summary>Writes the Cohere-shaped answer and the usage (search units and/or tokens) the cost is priced from.</summary>
    public static void Write(LlmContext context, RerankRequest r, List<Scored> results, string? id, long searchUnits, long tokens)
    {
        results.Sort(static (a, b) => b.Score.CompareTo(a.Score));
        if (r.TopN is { } n && results.Count > n) results.RemoveRange(n, results.Count - n);
        var buffer = new PooledBuffer(256 + 64 * results.Count);
        using (var w = new Utf8JsonWriter(buffer, JsonOut.Options))
        {
            w.WriteStartObject();
            w.WriteString("id"u8, id ?? Guid.NewGuid().ToString());
            w.WriteStartArray("results"u8);
            foreach (var (index, score) in results)
            {
                w.WriteStartObject();
                w.WriteNumber("index"u8, index);
                w.WriteNumber("relevance_score"u8, score);
                if (r.ReturnDocuments)
                {
                    w.WritePropertyName("document"u8);
                    var d = r.Documents[index];
                    if (d.ValueKind == JsonValueKind.String)
                    {
                        w.WriteStartObject();
                        w.WriteString("text"u8, d.GetString());
                        w.WriteEndObject();
                    }
                    else d.WriteTo(w);
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartObject("meta"u8);
            w.WriteStartObject("billed_units"u8);
            if (searchUnits > 0) w.WriteNumber("search_units"u8, searchUnits);
            if (tokens > 0) w.WriteNumber("total_tokens"u8, tokens);
            w.WriteEndObject();
            if (tokens > 0)
            {
                w.WriteStartObject("tokens"u8);
                w.WriteNumber("input_tokens"u8, tokens);
                w.WriteNumber("output_tokens"u8, 0);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        context.ResponseBody = buffer;
        context.Usage = new Usage { PromptTokens = tokens, TotalTokens = tokens, SearchUnits = searchUnits };
    }

    private static JsonDocument Parse(ReadOnlySpan<byte> body, string provider)
    {
        try
        {
            return JsonDocument.Parse(body.ToArray());
        }
        catch (JsonException ex)
        {
            throw BadAnswer(provider, "not valid JSON (" + ex.Message + ")", ex);
        }
    }

    private static LlmException BadAnswer(string provider, string what, Exception? inner = null) =>
        new LlmError { Kind = ErrorKind.BadGateway, Provider = provider, Message = $"{provider} answered the rerank call with a body LLMux cannot read: {what}" }.ToException(inner);
}
