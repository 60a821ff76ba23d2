using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;
using LLMux.Providers.Modes;

namespace LLMux.Providers.Gemini;

/// <summary>
/// Rerank on Vertex AI through the Discovery Engine ranking API
/// (<c>POST https://discoveryengine.googleapis.com/v1/projects/{project}/locations/global/rankingConfigs/default_ranking_config:rank</c>,
/// Bearer token and <c>X-Goog-User-Project</c>): documents become <c>records[{id: "&lt;index&gt;", title, content}]</c>
/// (title: an object's <c>title</c>, else the first three words), <c>top_n</c> → <c>topN</c>, <c>return_documents</c> →
/// <c>ignoreRecordDetailsInResponse</c> (negated); the answer's <c>records[{id, score}]</c> come back in Cohere's shape.
/// </summary>
internal static class VertexRanking
{
    public const string DefaultHost = "https://discoveryengine.googleapis.com";

    /// <summary>The ranking API bills a query per 100 records.</summary>
    private const int RecordsPerQuery = 100;

    /// <summary><c>api_base</c> ending in <c>:rank</c> is the whole URL; another api_base replaces the host.</summary>
    public static Uri Url(Deployment deployment, string project)
    {
        if (deployment.ApiBase is { } b && b.TrimEnd('/').EndsWith(":rank", StringComparison.Ordinal)) return new Uri(b.TrimEnd('/'), UriKind.Absolute);
        var host = (deployment.ApiBase ?? DefaultHost).TrimEnd('/');
        var config = deployment.Setting("vertex_ranking_config") ?? "default_ranking_config";
        return new Uri($"{host}/v1/projects/{Uri.EscapeDataString(project)}/locations/global/rankingConfigs/{Uri.EscapeDataString(config)}:rank", UriKind.Absolute);
    }

    public static PooledBuffer Write(LlmContext context, RerankRequest r, string model)
    {
        var buffer = new PooledBuffer(512 + r.Query.Length);
        try
        {
            using var w = new Utf8JsonWriter(buffer, JsonOut.Options);
            w.WriteStartObject();
            w.WriteString("model"u8, model);
            w.WriteString("query"u8, r.Query);
            w.WriteStartArray("records"u8);
            for (var i = 0; i < r.Documents.Count; i++)
            {
                var content = r.TextOf(i);
                var d = r.Documents[i];
                var title = d.ValueKind == JsonValueKind.Object && d.TryGetProperty("title", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : FirstWords(content, 3);
                w.WriteStartObject();
                w.WriteString("id"u8, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
                w.WriteString("title"u8, title);
                w.WriteString("content"u8, content);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (r.TopN is { } n && !context.IsDropped("top_n")) w.WriteNumber("topN"u8, n);
            w.WriteBoolean("ignoreRecordDetailsInResponse"u8, !r.ReturnDocuments);
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

    public static void Read(LlmContext context, ReadOnlySpan<byte> body, RerankRequest r, string provider)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body.ToArray());
        }
        catch (JsonException ex)
        {
            throw new LlmError { Kind = ErrorKind.BadGateway, Provider = provider, Message = $"{provider} answered the rank call with a body that is not valid JSON ({ex.Message})" }.ToException(ex);
        }
        using (doc)
        {
            var results = new List<RerankWire.Scored>();
            if (doc.RootElement.TryGetProperty("records", out var records) && records.ValueKind == JsonValueKind.Array)
                foreach (var e in records.EnumerateArray())
                {
                    if (!e.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String
                        || !int.TryParse(id.GetString(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index) || index >= r.Documents.Count) continue;
                    // Only ids come back when record details are ignored; LiteLLM scores those 1.
                    var score = e.TryGetProperty("score", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetDouble() : 1.0;
                    results.Add(new RerankWire.Scored(index, score));
                }
            var units = (r.Documents.Count + RecordsPerQuery - 1) / RecordsPerQuery;
            RerankWire.Write(context, r, results, null, units, 0);
        }
    }

    private static string FirstWords(string text, int count)
    {
        var words = text.Split((char[]?)null, count + 1, StringSplitOptions.RemoveEmptyEntries);
        return string.Join(' ', words.Take(count));
    }
}
