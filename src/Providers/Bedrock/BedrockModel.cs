namespace LLMux.Providers.Bedrock;

/// <summary>Which Bedrock API a deployment's model string routes to.</summary>
internal enum BedrockRoute
{
    Converse,
    Invoke,
}

/// <summary>
/// A Bedrock model id as LiteLLM reads it: <c>converse/</c> or <c>invoke/</c> route prefix, the id sent to AWS
/// (cross-region profile or ARN kept whole), and the base model used to decide per-family request fields.
/// </summary>
internal sealed record BedrockModel(BedrockRoute Route, string ModelId, string BaseModel)
{
    /// <summary>Cross-region inference profile prefixes (<c>us.anthropic.claude-…</c>).</summary>
    private static readonly string[] RegionPrefixes = ["global.", "us.", "eu.", "apac.", "jp.", "au.", "us-gov."];

    public static BedrockModel Parse(string upstreamModel, string? modelIdSetting)
    {
        var route = BedrockRoute.Converse;
        var id = upstreamModel;
        if (id.StartsWith("converse/", StringComparison.Ordinal)) id = id["converse/".Length..];
        else if (id.StartsWith("invoke/", StringComparison.Ordinal)) { id = id["invoke/".Length..]; route = BedrockRoute.Invoke; }
        var baseModel = BaseOf(id);
        return new BedrockModel(route, string.IsNullOrEmpty(modelIdSetting) ? id : modelIdSetting, baseModel);
    }

    /// <summary>Strips a region prefix, an ARN and a provisioned-throughput suffix (<c>…:0:51k</c> → <c>…:0</c>).</summary>
    internal static string BaseOf(string id)
    {
        if (id.StartsWith("arn:", StringComparison.Ordinal))
        {
            var slash = id.LastIndexOf('/');
            if (slash >= 0) id = id[(slash + 1)..];
        }
        foreach (var prefix in RegionPrefixes)
        {
            if (id.StartsWith(prefix, StringComparison.Ordinal)) { id = id[prefix.Length..]; break; }
        }
        var firstColon = id.IndexOf(':');
        if (firstColon >= 0)
        {
            var second = id.IndexOf(':', firstColon + 1);
            if (second >= 0) id = id[..second];
        }
        return id;
    }

    /// <summary>The region named in an ARN (<c>arn:aws:bedrock:us-east-1:…</c>), if the id is one.</summary>
    public string? ArnRegion()
    {
        if (!ModelId.StartsWith("arn:", StringComparison.Ordinal)) return null;
        var parts = ModelId.Split(':');
        return parts.Length > 3 && parts[3].Length > 0 ? parts[3] : null;
    }

    public bool IsAnthropic => BaseModel.StartsWith("anthropic.", StringComparison.Ordinal);
    public bool IsNova => BaseModel.StartsWith("amazon.nova", StringComparison.Ordinal);
    public bool IsNova2 => BaseModel.StartsWith("amazon.nova-2", StringComparison.Ordinal);
    public bool IsGptOss => BaseModel.StartsWith("openai.gpt-oss", StringComparison.Ordinal);
    public bool IsDeepSeekR1 => BaseModel.StartsWith("deepseek.r1", StringComparison.Ordinal);

    /// <summary>Claude models that take a <c>thinking</c> block (3.7 and the 4 family).</summary>
    public bool SupportsThinking => IsAnthropic && (BaseModel.Contains("claude-3-7", StringComparison.Ordinal)
        || BaseModel.Contains("sonnet-4", StringComparison.Ordinal) || BaseModel.Contains("opus-4", StringComparison.Ordinal)
        || BaseModel.Contains("haiku-4", StringComparison.Ordinal));

    public bool IsTitanEmbedding => BaseModel.StartsWith("amazon.titan-embed-text", StringComparison.Ordinal);
    public bool IsTitanEmbeddingV1 => BaseModel == "amazon.titan-embed-text-v1";
    public bool IsCohereEmbedding => BaseModel.StartsWith("cohere.embed", StringComparison.Ordinal);
}
