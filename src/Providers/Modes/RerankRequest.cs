using System.Text.Json;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Wire;

namespace LLMux.Providers.Modes;

/// <summary>A validated rerank request in Cohere's shape (LiteLLM's <c>/v1/rerank</c>); the elements belong to <see cref="Document"/>.</summary>
public sealed class RerankRequest
{
    public required JsonDocument Document { get; init; }
    public required string Model { get; init; }
    public required string Query { get; init; }
    /// <summary>Strings or objects, in the client's order.</summary>
    public required IReadOnlyList<JsonElement> Documents { get; init; }
    public int? TopN { get; init; }
    /// <summary>LiteLLM's default is true: each result carries its document.</summary>
    public bool ReturnDocuments { get; init; } = true;
    public IReadOnlyList<string>? RankFields { get; init; }
    public int? MaxChunksPerDoc { get; init; }
    public int? MaxTokensPerDoc { get; init; }
    /// <summary>NVIDIA NIM's <c>truncate</c> (NONE or END).</summary>
    public string? Truncate { get; init; }
    public required IReadOnlyList<string> Params { get; init; }
    public bool? DropParams { get; init; }
    public IReadOnlyList<string> AdditionalDropParams { get; init; } = [];
    public IReadOnlyList<string> AllowedOpenAIParams { get; init; } = [];
    public TimeSpan? Timeout { get; init; }

    /// <summary>The text of document <paramref name="i"/>: the string, or an object's <c>text</c> (else its JSON).</summary>
    public string TextOf(int i)
    {
        var d = Documents[i];
        if (d.ValueKind == JsonValueKind.String) return d.GetString()!;
        return d.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : d.GetRawText();
    }

    /// <summary>Parses and checks a rerank body before any call; the caller disposes <see cref="Document"/>.</summary>
    public static RerankRequest Parse(ReadOnlyMemory<byte> body)
    {
        if (body.IsEmpty) throw LlmError.Invalid("request body is empty; send a JSON object").ToException();
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException ex)
        {
            throw LlmError.Invalid($"request body is not valid JSON: {ex.Message}", null, "invalid_json").ToException(ex);
        }
        try
        {
            return Read(doc);
        }
        catch
        {
            doc.Dispose();
            throw;
        }
    }

    private static readonly HashSet<string> NotParams = ["model", "query", "documents", "metadata", .. GatewayRequestFields.Names];

    private static RerankRequest Read(JsonDocument doc)
    {
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw LlmError.Invalid("request body must be a JSON object").ToException();
        if (!root.TryGetProperty("model", out var m) || m.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(m.GetString()))
            throw LlmError.Invalid("`model` is required: the name of a configured model (GET /v1/models lists them)", "model").ToException();
        if (!root.TryGetProperty("query", out var q) || q.ValueKind != JsonValueKind.String || q.GetString()!.Length == 0)
            throw LlmError.Invalid("`query` is required: a non-empty string", "query").ToException();
        if (!root.TryGetProperty("documents", out var docs) || docs.ValueKind != JsonValueKind.Array || docs.GetArrayLength() == 0)
            throw LlmError.Invalid("`documents` is required: a non-empty array of strings or objects", "documents").ToException();
        var list = new List<JsonElement>(docs.GetArrayLength());
        var i = 0;
        foreach (var d in docs.EnumerateArray())
        {
            if (d.ValueKind is not (JsonValueKind.String or JsonValueKind.Object))
                throw LlmError.Invalid($"`documents[{i}]` must be a string or an object", $"documents[{i}]").ToException();
            list.Add(d);
            i++;
        }
        var topN = Int(root, "top_n");
        if (topN is < 1) throw LlmError.Invalid("`top_n` must be at least 1", "top_n").ToException();
        var returnDocuments = true;
        if (root.TryGetProperty("return_documents", out var rd) && rd.ValueKind != JsonValueKind.Null)
        {
            if (rd.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) throw LlmError.Invalid("`return_documents` must be a boolean", "return_documents", "invalid_type").ToException();
            returnDocuments = rd.ValueKind == JsonValueKind.True;
        }
        List<string>? rankFields = null;
        if (root.TryGetProperty("rank_fields", out var rf) && rf.ValueKind != JsonValueKind.Null)
        {
            if (rf.ValueKind != JsonValueKind.Array) throw LlmError.Invalid("`rank_fields` must be an array of strings", "rank_fields").ToException();
            rankFields = [];
            foreach (var f in rf.EnumerateArray())
            {
                if (f.ValueKind != JsonValueKind.String) throw LlmError.Invalid("`rank_fields` must be an array of strings", "rank_fields").ToException();
                rankFields.Add(f.GetString()!);
            }
        }
        var chunks = Int(root, "max_chunks_per_doc");
        var tokens = Int(root, "max_tokens_per_doc");
        if (chunks is < 1) throw LlmError.Invalid("`max_chunks_per_doc` must be at least 1", "max_chunks_per_doc").ToException();
        if (tokens is < 1) throw LlmError.Invalid("`max_tokens_per_doc` must be at least 1", "max_tokens_per_doc").ToException();

        string? truncate = null;
        if (root.TryGetProperty("truncate", out var tr) && tr.ValueKind != JsonValueKind.Null)
        {
            truncate = tr.ValueKind == JsonValueKind.String ? tr.GetString() : null;
            if (truncate is not ("NONE" or "END")) throw LlmError.Invalid("`truncate` must be NONE or END", "truncate").ToException();
        }

        var present = new List<string>();
        foreach (var p in root.EnumerateObject())
            if (p.Value.ValueKind != JsonValueKind.Null && !NotParams.Contains(p.Name)) present.Add(p.Name);
        return new RerankRequest
        {
            Document = doc,
            Model = m.GetString()!,
            Query = q.GetString()!,
            Documents = list,
            TopN = topN,
            ReturnDocuments = returnDocuments,
            RankFields = rankFields,
            MaxChunksPerDoc = chunks,
            MaxTokensPerDoc = tokens,
            Truncate = truncate,
            Params = present,
            DropParams = root.TryGetProperty("drop_params", out var dp) && dp.ValueKind is JsonValueKind.True or JsonValueKind.False ? dp.ValueKind == JsonValueKind.True : null,
            AdditionalDropParams = Strings(root, "additional_drop_params"),
            AllowedOpenAIParams = Strings(root, "allowed_openai_params"),
            Timeout = root.TryGetProperty("timeout", out var t) && t.ValueKind == JsonValueKind.Number && t.TryGetDouble(out var s) && s > 0 ? TimeSpan.FromSeconds(s) : null,
        };
    }

    private static int? Int(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out var i)) throw LlmError.Invalid($"`{name}` must be an integer", name, "invalid_type").ToException();
        return i;
    }

    private static List<string> Strings(JsonElement root, string name)
    {
        var list = new List<string>();
        if (root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array)
            foreach (var e in v.EnumerateArray()) if (e.ValueKind == JsonValueKind.String) list.Add(e.GetString()!);
        return list;
    }
}
