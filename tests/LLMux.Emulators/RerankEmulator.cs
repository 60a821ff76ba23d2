using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace LLMux.Emulators;

/// <summary>Which provider's rerank API the emulator speaks.</summary>
public enum RerankFlavor { CohereV2, Jina, Voyage, Vllm, Together, Infinity, Bedrock, AzureAI, DeepInfra, Tei, NvidiaNim }

/// <summary>
/// Rerank APIs byte for byte, as each provider answers: Cohere v2 (<c>/v2/rerank</c>, <c>meta.billed_units.search_units</c>,
/// no documents back), Jina and vLLM (<c>results[].document.text</c>, <c>usage.total_tokens</c>), Voyage (<c>top_k</c>,
/// <c>data</c>), Together (<c>object: rerank</c>), Infinity, and Bedrock's agent runtime (<c>/rerank</c>, SigV4,
/// <c>relevanceScore</c>, a foundation-model ARN). Each refuses fields its real API does not know, as a 400.
/// A document scores by how many of the query's words it contains (ties broken by position), so order is checkable.
/// </summary>
public sealed partial class RerankEmulator : EmulatorHost
{
    public RerankFlavor Flavor { get; init; }
    /// <summary>Answer the next request with this status and body instead.</summary>
    public (int Status, string Body)? NextError { get; set; }

    /// <summary>The api_base to configure (Cohere and Bedrock: the host root; the others: <c>.../v1</c>).</summary>
    public string ApiBase => Flavor switch
    {
        RerankFlavor.CohereV2 or RerankFlavor.Bedrock or RerankFlavor.Tei or RerankFlavor.NvidiaNim => Root.ToString().TrimEnd('/'),
        RerankFlavor.AzureAI => new Uri(Root, "/providers/cohere/v2").ToString(),
        RerankFlavor.DeepInfra => new Uri(Root, "/v1/openai").ToString(),
        _ => new Uri(Root, "/v1").ToString(),
    };

    public static async Task<RerankEmulator> StartNewAsync(RerankFlavor flavor)
    {
        var e = new RerankEmulator { Flavor = flavor };
        await e.StartAsync().ConfigureAwait(false);
        return e;
    }

    private static readonly Dictionary<RerankFlavor, string[]> Accepted = new()
    {
        [RerankFlavor.CohereV2] = ["model", "query", "documents", "top_n", "rank_fields", "max_tokens_per_doc"],
        [RerankFlavor.Jina] = ["model", "query", "documents", "top_n", "return_documents"],
        [RerankFlavor.Voyage] = ["model", "query", "documents", "top_k", "return_documents", "truncation"],
        [RerankFlavor.Vllm] = ["model", "query", "documents", "top_n", "return_documents", "truncate_prompt_tokens"],
        [RerankFlavor.Together] = ["model", "query", "documents", "top_n", "return_documents", "rank_fields"],
        [RerankFlavor.Infinity] = ["model", "query", "documents", "top_n", "return_documents", "raw_scores"],
        [RerankFlavor.Bedrock] = ["queries", "sources", "rerankingConfiguration", "nextToken"],
    };

    /// <summary>The score the emulator gives <paramref name="document"/> at <paramref name="index"/> for <paramref name="query"/>.</summary>
    public static double Score(string query, string document, int index)
    {
        var words = query.ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var hits = words.Count(w => document.Contains(w, StringComparison.OrdinalIgnoreCase));
        return Math.Round(hits / (double)Math.Max(1, words.Length) * 0.9 + 0.05 - index * 0.001, 6);
    }

    protected override async Task AnswerAsync(HttpContext http, RecordedRequest request)
    {
        if (NextError is { } error)
        {
            NextError = null;
            await WriteAsync(http, error.Status, error.Body).ConfigureAwait(false);
            return;
        }
        if (Flavor >= RerankFlavor.AzureAI)
        {
            await OtherFlavorAsync(http, request).ConfigureAwait(false);
            return;
        }
        var expectedPath = Flavor switch { RerankFlavor.CohereV2 => "/v2/rerank", RerankFlavor.Bedrock => "/rerank", _ => "/v1/rerank" };
        if (request.Path != expectedPath)
        {
            await WriteAsync(http, 404, "{\"message\":\"no route " + request.Path + "\"}").ConfigureAwait(false);
            return;
        }
        using var doc = JsonDocument.Parse(request.Body);
        var root = doc.RootElement;
        foreach (var p in root.EnumerateObject())
        {
            if (!Accepted[Flavor].Contains(p.Name))
            {
                await WriteAsync(http, 400, Flavor == RerankFlavor.Bedrock
                    ? "{\"message\":\"1 validation error detected: unknown field " + p.Name + "\"}"
                    : "{\"message\":\"invalid request: unknown field `" + p.Name + "`\"}").ConfigureAwait(false);
                return;
            }
        }
        if (Flavor == RerankFlavor.Bedrock)
        {
            await BedrockAsync(http, request, root).ConfigureAwait(false);
            return;
        }
        var query = root.GetProperty("query").GetString()!;
        var documents = root.GetProperty("documents").EnumerateArray().Select(static d => d.ValueKind == JsonValueKind.String ? d.GetString()! : d.GetRawText()).ToList();
        if (Flavor is RerankFlavor.CohereV2 or RerankFlavor.Voyage && root.GetProperty("documents").EnumerateArray().Any(static d => d.ValueKind != JsonValueKind.String))
        {
            await WriteAsync(http, 400, "{\"message\":\"documents must be strings\"}").ConfigureAwait(false);
            return;
        }
        var top = root.TryGetProperty(Flavor == RerankFlavor.Voyage ? "top_k" : "top_n", out var t) ? t.GetInt32() : documents.Count;
        var ranked = documents.Select((d, i) => (Index: i, Text: d, Score: Score(query, d, i))).OrderByDescending(static x => x.Score).Take(top).ToList();
        var returnDocs = !root.TryGetProperty("return_documents", out var rd) || rd.ValueKind == JsonValueKind.True;
        var tokens = (query.Length + documents.Sum(static d => d.Length)) / 4;
        var sb = new StringBuilder();
        string Results(bool withDocs) => string.Join(",", ranked.Select(r =>
            "{\"index\":" + r.Index + (withDocs ? ",\"document\":{\"text\":" + JsonSerializer.Serialize(r.Text) + "}" : "") + ",\"relevance_score\":" + r.Score.ToString(System.Globalization.CultureInfo.InvariantCulture) + "}"));
        var model = root.GetProperty("model").GetString();
        var body = Flavor switch
        {
            RerankFlavor.CohereV2 => "{\"results\":[" + Results(false) + "],\"id\":\"07734bd2-2473-4f07-94e1-0d9f0e6843cf\",\"meta\":{\"api_version\":{\"version\":\"2\"},\"billed_units\":{\"search_units\":1}}}",
            RerankFlavor.Jina => "{\"model\":\"" + model + "\",\"usage\":{\"total_tokens\":" + tokens + "},\"results\":[" + Results(returnDocs) + "]}",
            RerankFlavor.Voyage => "{\"object\":\"list\",\"data\":[" + Results(returnDocs) + "],\"model\":\"" + model + "\",\"usage\":{\"total_tokens\":" + tokens + "}}",
            RerankFlavor.Vllm => "{\"id\":\"rerank-emu1\",\"model\":\"" + model + "\",\"usage\":{\"total_tokens\":" + tokens + "},\"results\":[" + Results(true) + "]}",
            RerankFlavor.Together => "{\"model\":\"" + model + "\",\"object\":\"rerank\",\"results\":[" + Results(returnDocs) + "],\"usage\":{\"prompt_tokens\":" + tokens + ",\"completion_tokens\":0,\"total_tokens\":" + tokens + "},\"id\":\"oGs6Zt9-62bZhn-8a0f6fc8b3c0e4f8\"}",
            _ => "{\"object\":\"rerank\",\"results\":[" + Results(returnDocs) + "],\"model\":\"" + model + "\",\"usage\":{\"prompt_tokens\":" + tokens + ",\"total_tokens\":" + tokens + "},\"id\":\"infinity-emu1\",\"created\":1700000200}",
        };
        await WriteAsync(http, 200, body).ConfigureAwait(false);
    }

    private static async Task BedrockAsync(HttpContext http, RecordedRequest request, JsonElement root)
    {
        if (!request.Headers.TryGetValue("authorization", out var auth) || !auth.StartsWith("AWS4-HMAC-SHA256 Credential=", StringComparison.Ordinal)
            || !auth.Contains("/bedrock/aws4_request", StringComparison.Ordinal) || !request.Headers.ContainsKey("x-amz-date"))
        {
            await WriteAsync(http, 403, "{\"message\":\"Missing Authentication Token\"}").ConfigureAwait(false);
            return;
        }
        var config = root.GetProperty("rerankingConfiguration").GetProperty("bedrockRerankingConfiguration");
        var arn = config.GetProperty("modelConfiguration").GetProperty("modelArn").GetString()!;
        if (!arn.StartsWith("arn:aws:bedrock:", StringComparison.Ordinal))
        {
            await WriteAsync(http, 400, "{\"message\":\"1 validation error detected: Value '" + arn + "' at 'rerankingConfiguration.bedrockRerankingConfiguration.modelConfiguration.modelArn' failed to satisfy constraint\"}").ConfigureAwait(false);
            return;
        }
        var query = root.GetProperty("queries")[0].GetProperty("textQuery").GetProperty("text").GetString()!;
        var texts = root.GetProperty("sources").EnumerateArray().Select(static s =>
        {
            var inline = s.GetProperty("inlineDocumentSource");
            return inline.GetProperty("type").GetString() == "TEXT" ? inline.GetProperty("textDocument").GetProperty("text").GetString()! : inline.GetProperty("jsonDocument").GetRawText();
        }).ToList();
        var n = config.GetProperty("numberOfResults").GetInt32();
        var ranked = texts.Select((d, i) => (Index: i, Score: Score(query, d, i))).OrderByDescending(static x => x.Score).Take(n);
        var body = "{\"results\":[" + string.Join(",", ranked.Select(static r => "{\"index\":" + r.Index + ",\"relevanceScore\":" + r.Score.ToString(System.Globalization.CultureInfo.InvariantCulture) + "}")) + "]}";
        await WriteAsync(http, 200, body).ConfigureAwait(false);
    }

    private static async Task WriteAsync(HttpContext http, int status, string body)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(body, http.RequestAborted).ConfigureAwait(false);
    }
}
