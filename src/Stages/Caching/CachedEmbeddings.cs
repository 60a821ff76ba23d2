using System.Buffers;
using System.Text.Json;
using LLMux.Pipeline.Composition;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Json;
using LLMux.Pipeline.Wire;

namespace LLMux.Stages.Caching;

/// <summary>
/// Embeddings cached per input: each input's key is its own (the request's other fields hashed once, then the input),
/// so a batch with one new input sends only that one upstream and the answer is put back together in the caller's
/// order. A stored entry is the embedding value as the provider wrote it (float array or base64 string, per
/// <c>encoding_format</c>, which is part of the key). <c>usage</c> counts the tokens of the inputs that were sent.
/// </summary>
internal static class CachedEmbeddings
{
    public static async ValueTask InvokeAsync(LlmContext context, StageDelegate next, JsonElement root, CacheControls controls, byte[] digest, string prefix, CacheSettings settings, ICacheStore store)
    {
        var input = root.GetProperty("input");
        var inputs = Inputs(input);
        var keys = new string[inputs.Count];
        for (var i = 0; i < inputs.Count; i++) keys[i] = CacheKeys.ItemKey(prefix, digest, inputs[i]);
        var requestKey = CacheKeys.Key(prefix, digest);
        if (controls is { NoCache: true, NoStore: true })
        {
            await next(context).ConfigureAwait(false);
            CacheStage.Answered(context, requestKey, "bypass");
            return;
        }

        var found = new CacheEntry?[inputs.Count];
        var hits = 0;
        if (!controls.NoCache)
        {
            for (var i = 0; i < inputs.Count; i++)
                if ((found[i] = await CacheStage.Lookup(store, keys[i], controls, context).ConfigureAwait(false)) is not null) hits++;
        }
        var ttl = controls.Ttl ?? settings.Ttl;
        if (hits == inputs.Count)
        {
            context.ResponseBody = Merge(found, null, [], found[0]!.Model, null);
            decimal saved = 0;
            foreach (var e in found) saved += e!.Cost ?? 0;
            CacheStage.Served(context, saved);
            CacheStage.Answered(context, requestKey, "hit");
            context.ResponseHeaders.Add(new("x-llmux-cache-items", $"{hits}/{inputs.Count}"));
            return;
        }

        // Only the inputs not found go upstream.
        var missing = new List<int>(inputs.Count - hits);
        for (var i = 0; i < inputs.Count; i++) if (found[i] is null) missing.Add(i);
        PooledBuffer? partial = null;
        var originalBody = context.Body;
        var originalRequest = context.Embedding;
        try
        {
            if (hits > 0)
            {
                partial = Rewrite(root, inputs, missing);
                context.Body = partial.Memory;
                context.Embedding = JsonSerializer.Deserialize(partial.Span, WireJson.Default.EmbeddingRequest);
            }
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            context.Body = originalBody;
            context.Embedding = originalRequest;
            partial?.Dispose();
        }
        CacheStage.Answered(context, requestKey, controls.NoCache ? "bypass" : "miss");
        context.ResponseHeaders.Add(new("x-llmux-cache-items", $"{hits}/{inputs.Count}"));
        if (context.ResponseBody is not { } answer) return;

        using var doc = JsonDocument.Parse(answer.Memory);
        var data = doc.RootElement.TryGetProperty("data", out var d) && d.ValueKind == JsonValueKind.Array ? d : default;
        if (data.ValueKind != JsonValueKind.Array || data.GetArrayLength() != missing.Count) return; // not an answer to put together or keep
        var model = doc.RootElement.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
        var share = context.Cost is { } cost && missing.Count > 0 ? cost / missing.Count : (decimal?)null;
        var fresh = new JsonElement[missing.Count];
        foreach (var item in data.EnumerateArray())
        {
            var index = item.TryGetProperty("index", out var ix) && ix.TryGetInt32(out var n) ? n : -1;
            if (index < 0 || index >= missing.Count || !item.TryGetProperty("embedding", out var embedding)) return;
            fresh[index] = embedding;
        }
        if (!controls.NoStore)
        {
            var now = context.TimeProvider.GetUtcNow();
            for (var j = 0; j < missing.Count; j++)
                await CacheStage.Save(store, keys[missing[j]], new CacheEntry(System.Text.Encoding.UTF8.GetBytes(fresh[j].GetRawText()), now, false, share, model), ttl, context.RequestedModel).ConfigureAwait(false);
        }
        if (hits > 0)
        {
            var usage = doc.RootElement.TryGetProperty("usage", out var u) ? u : default;
            var merged = Merge(found, missing, fresh, model, usage);
            answer.Dispose();
            context.ResponseBody = merged;
        }
    }

    /// <summary>The inputs one by one: a string is one input, an array of strings or of token arrays is several, an array of token ids is one.</summary>
    private static List<JsonElement> Inputs(JsonElement input)
    {
        var list = new List<JsonElement>();
        if (input.ValueKind != JsonValueKind.Array) { list.Add(input); return list; }
        if (input.GetArrayLength() > 0 && input[0].ValueKind == JsonValueKind.Number) { list.Add(input); return list; }
        foreach (var e in input.EnumerateArray()) list.Add(e);
        return list;
    }

    /// <summary>The request with <c>input</c> holding only the missing inputs (every other field as it was).</summary>
    private static PooledBuffer Rewrite(JsonElement root, List<JsonElement> inputs, List<int> missing)
    {
        var buffer = new PooledBuffer(4096);
        using var w = new Utf8JsonWriter(buffer, JsonOut.Options);
        w.WriteStartObject();
        foreach (var p in root.EnumerateObject())
        {
            if (p.Name != "input") { p.WriteTo(w); continue; }
            w.WriteStartArray("input"u8);
            foreach (var i in missing) inputs[i].WriteTo(w);
            w.WriteEndArray();
        }
        w.WriteEndObject();
        w.Flush();
        return buffer;
    }

    /// <summary>OpenAI's embeddings list in the caller's order: cached values where found, the fresh ones (by position in <paramref name="missing"/>) elsewhere.</summary>
    private static PooledBuffer Merge(CacheEntry?[] found, List<int>? missing, JsonElement[] fresh, string? model, JsonElement? usage)
    {
        var buffer = new PooledBuffer(4096);
        using var w = new Utf8JsonWriter(buffer, JsonOut.Options);
        w.WriteStartObject();
        w.WriteString("object"u8, "list"u8);
        w.WriteStartArray("data"u8);
        var next = 0;
        for (var i = 0; i < found.Length; i++)
        {
            w.WriteStartObject();
            w.WriteString("object"u8, "embedding"u8);
            w.WriteNumber("index"u8, i);
            w.WritePropertyName("embedding"u8);
            if (found[i] is { } e) w.WriteRawValue(e.Payload, skipInputValidation: true);
            else fresh[next++].WriteTo(w);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        if (model is null) w.WriteNull("model"u8); else w.WriteString("model"u8, model);
        w.WritePropertyName("usage"u8);
        if (usage is { ValueKind: JsonValueKind.Object } u) u.WriteTo(w);
        else
        {
            // Every input came from the cache: nothing was sent, nothing was used.
            w.WriteStartObject();
            w.WriteNumber("prompt_tokens"u8, 0);
            w.WriteNumber("total_tokens"u8, 0);
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.Flush();
        return buffer;
    }
}
