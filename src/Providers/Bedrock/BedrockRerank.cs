using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;
using LLMux.Providers.Modes;

namespace LLMux.Providers.Bedrock;

/// <summary>
/// Bedrock's Rerank API (<c>POST https://bedrock-agent-runtime.{region}.amazonaws.com/rerank</c>, SigV4 service
/// <c>bedrock</c>): the query and inline documents (text, or JSON for object documents), the model as a foundation-model
/// ARN (the bare id is refused by the real API), <c>numberOfResults</c> from <c>top_n</c> (else every document).
/// </summary>
internal static class BedrockRerank
{
    /// <summary>AWS bills a rerank query per 100 documents.</summary>
    private const int DocumentsPerQuery = 100;

    public static string ModelArn(string modelId, string region) =>
        modelId.StartsWith("arn:", StringComparison.Ordinal) ? modelId : $"arn:aws:bedrock:{region}::foundation-model/{modelId}";

    public static Uri Endpoint(Deployment deployment, string region, Func<string, string?> env)
    {
        var root = deployment.ApiBase
            ?? deployment.Setting("aws_bedrock_agent_runtime_endpoint")
            ?? env("AWS_BEDROCK_AGENT_RUNTIME_ENDPOINT")
            ?? $"https://bedrock-agent-runtime.{region}.amazonaws.com";
        return Common.ProviderUrls.Join(root, "rerank");
    }

    public static PooledBuffer Write(RerankRequest r, string modelId, string region)
    {
        var buffer = new PooledBuffer(512 + r.Query.Length);
        try
        {
            using var w = new Utf8JsonWriter(buffer, JsonOut.Options);
            w.WriteStartObject();
            w.WriteStartArray("queries"u8);
            w.WriteStartObject();
            w.WriteString("type"u8, "TEXT"u8);
            w.WriteStartObject("textQuery"u8);
            w.WriteString("text"u8, r.Query);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteStartArray("sources"u8);
            foreach (var d in r.Documents)
            {
                w.WriteStartObject();
                w.WriteString("type"u8, "INLINE"u8);
                w.WriteStartObject("inlineDocumentSource"u8);
                if (d.ValueKind == JsonValueKind.String)
                {
                    w.WriteString("type"u8, "TEXT"u8);
                    w.WriteStartObject("textDocument"u8);
                    w.WriteString("text"u8, d.GetString());
                    w.WriteEndObject();
                }
                else
                {
                    w.WriteString("type"u8, "JSON"u8);
                    w.WritePropertyName("jsonDocument"u8);
                    d.WriteTo(w);
                }
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartObject("rerankingConfiguration"u8);
            w.WriteString("type"u8, "BEDROCK_RERANKING_MODEL"u8);
            w.WriteStartObject("bedrockRerankingConfiguration"u8);
            w.WriteStartObject("modelConfiguration"u8);
            w.WriteString("modelArn"u8, ModelArn(modelId, region));
            w.WriteEndObject();
            w.WriteNumber("numberOfResults"u8, Math.Min(r.TopN ?? r.Documents.Count, r.Documents.Count));
            w.WriteEndObject();
            w.WriteEndObject();
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
            throw new LlmError { Kind = ErrorKind.BadGateway, Provider = provider, Message = $"{provider} answered the rerank call with a body that is not valid JSON ({ex.Message})" }.ToException(ex);
        }
        using (doc)
        {
            var results = new List<RerankWire.Scored>();
            if (doc.RootElement.TryGetProperty("results", out var arr) && arr.ValueKind == JsonValueKind.Array)
            {
                foreach (var e in arr.EnumerateArray())
                {
                    if (!e.TryGetProperty("index", out var i) || !i.TryGetInt32(out var index) || index < 0 || index >= r.Documents.Count) continue;
                    var score = e.TryGetProperty("relevanceScore", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetDouble() : 0;
                    results.Add(new RerankWire.Scored(index, score));
                }
            }
            var units = (r.Documents.Count + DocumentsPerQuery - 1) / DocumentsPerQuery;
            RerankWire.Write(context, r, results, null, units, 0);
        }
    }
}
