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
            if (dialect.Body != RerankBody.Cohere)
            {
                WriteOtherBody(w, context, r, dialect, upstreamModel);
                w.Flush();
                return buffer;
            }
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
            if (r.TopN is { } n && dialect.TopN is { } topN && !context.IsDropped("top_n")) w.WriteNumber(topN, n);
            if (dialect.RankFields && r.RankFields is { } fields && !context.IsDropped("rank_fields"))
            {
                w.WriteStartArray("rank_fields"u8);
                foreach (var f in fields) w.WriteStringValue(f);
                w.WriteEndArray();
            }
            if (dialect.ReturnDocuments && r.Params.Contains("return_documents") && !context.IsDropped("return_documents")) w.WriteBoolean("return_documents"u8, r.ReturnDocuments);
            if (dialect.MaxTokensPerDoc && r.MaxTokensPerDoc is { } t && !context.IsDropped("max_tokens_per_doc")) w.WriteNumber("max_tokens_per_doc"u8, t);
            // Provider fields the capability check let through (OpenAI-compatible servers: truncate_prompt_tokens, raw_scores…) go as sent.
            foreach (var p in r.Document.RootElement.EnumerateObject())
                if (IsExtra(p.Name) && p.Value.ValueKind != JsonValueKind.Null && !context.IsDropped(p.Name)) p.WriteTo(w);
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

    /// <summary>Request fields that are neither Cohere's nor the gateway's.</summary>
    private static bool IsExtra(string name) =>
        name is not ("model" or "query" or "documents" or "metadata" or "top_n" or "return_documents" or "rank_fields" or "max_chunks_per_doc" or "max_tokens_per_doc")
        && Array.IndexOf(GatewayRequestFields.Names, name) < 0;

    /// <summary>DeepInfra, Hugging Face TEI and NVIDIA NIM bodies (their documents are strings: objects go as their text).</summary>
    private static void WriteOtherBody(Utf8JsonWriter w, LlmContext context, RerankRequest r, RerankDialect dialect, string upstreamModel)
    {
        // These bodies are rebuilt, not forwarded: a field they have no place for is refused (or dropped under drop_params), never lost.
        foreach (var p in r.Params)
        {
            if (!IsExtra(p) || context.IsDropped(p) || (p == "truncate" && dialect.Body == RerankBody.NvidiaNim)) continue;
            if (context.DropParams)
            {
                context.AddDroppedParam(p);
                continue;
            }
            throw new LlmError
            {
                Kind = ErrorKind.UnsupportedParam,
                Message = $"parameter `{p}` is not supported by {context.ProviderName}'s rerank API; remove it, or set drop_params: true to drop it with a warning",
                Param = p,
                Code = "unsupported_parameter",
                Provider = context.ProviderName,
            }.ToException();
        }
        w.WriteStartObject();
        switch (dialect.Body)
        {
            case RerankBody.DeepInfra:
                // DeepInfra scores query/document pairs: one query per document.
                w.WriteStartArray("queries"u8);
                for (var i = 0; i < r.Documents.Count; i++) w.WriteStringValue(r.Query);
                w.WriteEndArray();
                w.WriteStartArray("documents"u8);
                for (var i = 0; i < r.Documents.Count; i++) w.WriteStringValue(r.TextOf(i));
                w.WriteEndArray();
                break;
            case RerankBody.Tei:
                w.WriteString("query"u8, r.Query);
                w.WriteStartArray("texts"u8);
                for (var i = 0; i < r.Documents.Count; i++) w.WriteStringValue(r.TextOf(i));
                w.WriteEndArray();
                w.WriteBoolean("raw_scores"u8, false);
                w.WriteBoolean("truncate"u8, false);
                w.WriteString("truncation_direction"u8, "Right"u8);
                break;
            case RerankBody.NvidiaNim:
                // NIM's body names the model with dots where its URL has underscores (llama-3_2-… → llama-3.2-…).
                w.WriteString("model"u8, RerankDialect.NimModel(upstreamModel).Replace('_', '.'));
                w.WriteStartObject("query"u8);
                w.WriteString("text"u8, r.Query);
                w.WriteEndObject();
                w.WriteStartArray("passages"u8);
                for (var i = 0; i < r.Documents.Count; i++)
                {
                    w.WriteStartObject();
                    w.WriteString("text"u8, r.TextOf(i));
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                if (r.TopN is { } n && !context.IsDropped("top_n")) w.WriteNumber("top_k"u8, n);
                if (r.Truncate is { } truncate && !context.IsDropped("truncate")) w.WriteString("truncate"u8, truncate);
                break;
        }
        w.WriteEndObject();
    }

    /// <summary>DeepInfra's <c>scores</c> (in document order), TEI's top-level array, NIM's <c>rankings[{index, logit}]</c>.</summary>
    private static void ReadOtherAnswer(LlmContext context, JsonElement root, RerankRequest r, RerankDialect dialect, string provider)
    {
        var results = new List<Scored>();
        long tokens = 0, units = 0;
        string? id = null;
        switch (dialect.Body)
        {
            case RerankBody.DeepInfra:
                if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("scores", out var scores) || scores.ValueKind != JsonValueKind.Array) throw BadAnswer(provider, "no `scores` array");
                var index = 0;
                foreach (var s in scores.EnumerateArray())
                {
                    if (index < r.Documents.Count && s.ValueKind == JsonValueKind.Number) results.Add(new Scored(index, s.GetDouble()));
                    index++;
                }
                if (root.TryGetProperty("input_tokens", out var it) && it.TryGetInt64(out var t)) tokens = t;
                if (root.TryGetProperty("request_id", out var rid) && rid.ValueKind == JsonValueKind.String) id = rid.GetString();
                break;
            case RerankBody.Tei:
                if (root.ValueKind != JsonValueKind.Array) throw BadAnswer(provider, "not an array of {index, score}");
                foreach (var e in root.EnumerateArray())
                    if (e.TryGetProperty("index", out var i) && i.TryGetInt32(out var ix) && ix >= 0 && ix < r.Documents.Count && e.TryGetProperty("score", out var sc) && sc.ValueKind == JsonValueKind.Number)
                        results.Add(new Scored(ix, sc.GetDouble()));
                units = 1; // TEI reports no usage: one query (LiteLLM's search_units: 1)
                break;
            case RerankBody.NvidiaNim:
                if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("rankings", out var rankings) || rankings.ValueKind != JsonValueKind.Array) throw BadAnswer(provider, "no `rankings` array");
                foreach (var e in rankings.EnumerateArray())
                    if (e.TryGetProperty("index", out var i) && i.TryGetInt32(out var ix) && ix >= 0 && ix < r.Documents.Count && e.TryGetProperty("logit", out var lg) && lg.ValueKind == JsonValueKind.Number)
                        results.Add(new Scored(ix, lg.GetDouble()));
                if (root.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object && u.TryGetProperty("total_tokens", out var tt) && tt.TryGetInt64(out var total)) tokens = total;
                break;
        }
        Write(context, r, results, id, units, tokens);
    }

    /// <summary>One scored result, whatever the upstream called its fields.</summary>
    public readonly record struct Scored(int Index, double Score);

    /// <summary>Reads a Cohere-like answer (results or data, <c>relevance_score</c>, usage or meta) into the context.</summary>
    public static void ReadAnswer(LlmContext context, ReadOnlySpan<byte> upstream, RerankRequest r, RerankDialect dialect, string provider)
    {
        using var doc = Parse(upstream, provider);
        var root = doc.RootElement;
        if (dialect.Body != RerankBody.Cohere)
        {
            ReadOtherAnswer(context, root, r, dialect, provider);
            return;
        }
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
