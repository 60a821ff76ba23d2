using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace LLMux.Emulators;

/// <summary>
/// The rerank APIs that are not Cohere-like, from each provider's API reference: Azure AI Foundry's Cohere v2
/// (<c>/providers/cohere/v2/rerank</c>, Bearer or api-key, <c>meta.billed_units.search_units</c>), DeepInfra's
/// inference API (<c>/v1/inference/{model}</c>, <c>{queries, documents}</c> of equal length → <c>{scores, input_tokens,
/// request_id, inference_status}</c>), Hugging Face Text Embeddings Inference (<c>/rerank</c>, <c>{query, texts,
/// raw_scores, return_text, truncate, truncation_direction}</c> → <c>[{index, score, text?}]</c> sorted) and NVIDIA
/// NIM (<c>/v1/retrieval/{model}/reranking</c> or <c>/v1/ranking</c>, <c>{model, query{text}, passages[{text}],
/// truncate, top_k}</c> → <c>{rankings[{index, logit}]}</c>).
/// </summary>
public sealed partial class RerankEmulator
{
    /// <summary>The key the Bearer-authenticated flavors expect (<c>Authorization: Bearer</c>, or Azure's <c>api-key</c>).</summary>
    public const string Key = "rr-key";

    private async Task OtherFlavorAsync(HttpContext http, RecordedRequest request)
    {
        var auth = request.Headers.GetValueOrDefault("authorization");
        if (auth != "Bearer " + Key && !(Flavor == RerankFlavor.AzureAI && request.Headers.GetValueOrDefault("api-key") == Key))
        {
            await WriteAsync(http, 401, "{\"error\":{\"code\":\"Unauthorized\",\"message\":\"Access denied due to invalid subscription key or wrong API endpoint.\"}}").ConfigureAwait(false);
            return;
        }
        JsonObject body;
        try
        {
            body = JsonNode.Parse(request.Body) as JsonObject ?? throw new JsonException("not an object");
        }
        catch (JsonException)
        {
            await WriteAsync(http, 422, "{\"error\":\"Failed to parse the request body as JSON\"}").ConfigureAwait(false);
            return;
        }
        switch (Flavor)
        {
            case RerankFlavor.AzureAI: await AzureAIAsync(http, request, body).ConfigureAwait(false); break;
            case RerankFlavor.DeepInfra: await DeepInfraAsync(http, request, body).ConfigureAwait(false); break;
            case RerankFlavor.Tei: await TeiAsync(http, request, body).ConfigureAwait(false); break;
            default: await NimAsync(http, request, body).ConfigureAwait(false); break;
        }
    }

    private static string? Unknown(JsonObject body, params string[] accepted)
    {
        foreach (var (name, _) in body) if (Array.IndexOf(accepted, name) < 0) return name;
        return null;
    }

    private static async Task AzureAIAsync(HttpContext http, RecordedRequest request, JsonObject body)
    {
        if (request.Path != "/providers/cohere/v2/rerank")
        {
            await WriteAsync(http, 404, "{\"error\":{\"code\":\"404\",\"message\":\"Resource not found\"}}").ConfigureAwait(false);
            return;
        }
        if (Unknown(body, "model", "query", "documents", "top_n", "max_tokens_per_doc") is { } u)
        {
            await WriteAsync(http, 400, "{\"id\":\"az-1\",\"message\":\"invalid request: unknown field `" + u + "`\"}").ConfigureAwait(false);
            return;
        }
        var query = body["query"]!.GetValue<string>();
        var docs = body["documents"]!.AsArray().Select(static d => d!.GetValue<string>()).ToList();
        var top = body["top_n"]?.GetValue<int>() ?? docs.Count;
        var ranked = docs.Select((d, i) => (Index: i, Score: Score(query, d, i))).OrderByDescending(static x => x.Score).Take(top);
        var results = string.Join(",", ranked.Select(static r => "{\"index\":" + r.Index + ",\"relevance_score\":" + r.Score.ToString(CultureInfo.InvariantCulture) + "}"));
        await WriteAsync(http, 200, "{\"id\":\"az-rr-1\",\"results\":[" + results + "],\"meta\":{\"api_version\":{\"version\":\"2\"},\"billed_units\":{\"search_units\":1}}}").ConfigureAwait(false);
    }

    private static async Task DeepInfraAsync(HttpContext http, RecordedRequest request, JsonObject body)
    {
        if (!request.Path.StartsWith("/v1/inference/", StringComparison.Ordinal))
        {
            await WriteAsync(http, 404, "{\"detail\":{\"error\":\"Not Found\"}}").ConfigureAwait(false);
            return;
        }
        if (Unknown(body, "queries", "documents", "instruction", "service_tier", "webhook") is { } u)
        {
            await WriteAsync(http, 422, "{\"detail\":[{\"loc\":[\"body\",\"" + u + "\"],\"msg\":\"extra fields not permitted\",\"type\":\"value_error.extra\"}]}").ConfigureAwait(false);
            return;
        }
        var queries = body["queries"]!.AsArray().Select(static q => q!.GetValue<string>()).ToList();
        var docs = body["documents"]!.AsArray().Select(static d => d!.GetValue<string>()).ToList();
        if (queries.Count != docs.Count)
        {
            await WriteAsync(http, 422, "{\"detail\":{\"error\":\"queries and documents must have the same length\"}}").ConfigureAwait(false);
            return;
        }
        var scores = docs.Select((d, i) => Score(queries[i], d, i).ToString(CultureInfo.InvariantCulture));
        var tokens = (queries.Sum(static q => q.Length) + docs.Sum(static d => d.Length)) / 4;
        await WriteAsync(http, 200, "{\"scores\":[" + string.Join(",", scores) + "],\"input_tokens\":" + tokens + ",\"request_id\":\"di-req-1\",\"inference_status\":{\"status\":\"succeeded\",\"runtime_ms\":12,\"cost\":0.0,\"tokens_input\":" + tokens + "}}").ConfigureAwait(false);
    }

    private static async Task TeiAsync(HttpContext http, RecordedRequest request, JsonObject body)
    {
        if (request.Path != "/rerank")
        {
            await WriteAsync(http, 404, "{\"error\":\"Not Found\",\"error_type\":\"not_found\"}").ConfigureAwait(false);
            return;
        }
        if (Unknown(body, "query", "texts", "raw_scores", "return_text", "truncate", "truncation_direction") is { } u)
        {
            await WriteAsync(http, 422, "{\"error\":\"Failed to deserialize the JSON body into the target type: unknown field `" + u + "`\",\"error_type\":\"validation\"}").ConfigureAwait(false);
            return;
        }
        var query = body["query"]!.GetValue<string>();
        var texts = body["texts"]!.AsArray().Select(static d => d!.GetValue<string>()).ToList();
        var returnText = body["return_text"]?.GetValue<bool>() ?? false;
        var ranked = texts.Select((d, i) => (Index: i, Text: d, Score: Score(query, d, i))).OrderByDescending(static x => x.Score);
        var items = string.Join(",", ranked.Select(r => "{\"index\":" + r.Index + ",\"score\":" + r.Score.ToString(CultureInfo.InvariantCulture) + (returnText ? ",\"text\":" + JsonSerializer.Serialize(r.Text) : "") + "}"));
        await WriteAsync(http, 200, "[" + items + "]").ConfigureAwait(false);
    }

    private static async Task NimAsync(HttpContext http, RecordedRequest request, JsonObject body)
    {
        if (!(request.Path.StartsWith("/v1/retrieval/", StringComparison.Ordinal) && request.Path.EndsWith("/reranking", StringComparison.Ordinal)) && request.Path != "/v1/ranking")
        {
            await WriteAsync(http, 404, "{\"status\":404,\"title\":\"Not Found\",\"detail\":\"Function not found\"}").ConfigureAwait(false);
            return;
        }
        if (Unknown(body, "model", "query", "passages", "truncate", "top_k") is { } u)
        {
            await WriteAsync(http, 422, "{\"type\":\"urn:nvcf-worker-service:problem-details:unprocessable-entity\",\"title\":\"Unprocessable Entity\",\"status\":422,\"detail\":\"Extra inputs are not permitted: " + u + "\"}").ConfigureAwait(false);
            return;
        }
        if (body["truncate"] is { } t && t.GetValue<string>() is not ("NONE" or "END"))
        {
            await WriteAsync(http, 422, "{\"title\":\"Unprocessable Entity\",\"status\":422,\"detail\":\"truncate must be NONE or END\"}").ConfigureAwait(false);
            return;
        }
        var query = body["query"]!["text"]!.GetValue<string>();
        var passages = body["passages"]!.AsArray().Select(static p => p!["text"]!.GetValue<string>()).ToList();
        var top = body["top_k"]?.GetValue<int>() ?? passages.Count;
        // NIM's logits are unbounded; scaled here so order still follows the shared score.
        var ranked = passages.Select((d, i) => (Index: i, Logit: Math.Round(Score(query, d, i) * 20 - 10, 4))).OrderByDescending(static x => x.Logit).Take(top);
        await WriteAsync(http, 200, "{\"rankings\":[" + string.Join(",", ranked.Select(static r => "{\"index\":" + r.Index + ",\"logit\":" + r.Logit.ToString(CultureInfo.InvariantCulture) + "}")) + "]}").ConfigureAwait(false);
    }
}
