namespace LLMux.Providers.Gemini;

/// <summary>The Model Garden partner families Vertex AI serves besides Gemini and Claude, each on its own endpoint and body.</summary>
internal enum VertexPartnerFamily
{
    /// <summary>Mistral and Codestral: Mistral's chat body at <c>publishers/mistralai/models/{model}:rawPredict</c> / <c>:streamRawPredict</c>.</summary>
    Mistral,
    /// <summary>AI21 Jamba: OpenAI's chat body at <c>v1beta1/…/publishers/ai21/models/{model}:rawPredict</c> / <c>:streamRawPredict</c>.</summary>
    Ai21,
    /// <summary>Llama, DeepSeek, Qwen, gpt-oss, MiniMax, Kimi, GLM: the OpenAI-compatible <c>endpoints/openapi/chat/completions</c>.</summary>
    OpenApi,
}

/// <summary>Which partner family a <c>vertex_ai/</c> model id belongs to, by LiteLLM's prefixes (vertex_ai_partner_models/main.py).</summary>
internal static class VertexPartnerModels
{
    // LiteLLM's PartnerModelPrefixes, without claude (VertexClaudeProvider has it).
    private static readonly string[] PartnerPrefixes = ["meta/", "deepseek-ai", "mistral", "codestral", "jamba", "qwen", "openai/gpt-oss-", "minimaxai/", "moonshotai/", "zai-org/"];

    // LiteLLM's OPENAI_LIKE_VERTEX_PROVIDERS: matched anywhere in the id, before mistral and jamba.
    private static readonly string[] OpenApiMarks = ["llama", "deepseek-ai", "qwen", "openai/gpt-oss-", "minimaxai/", "moonshotai/", "zai-org/"];

    public static VertexPartnerFamily? FamilyOf(string model)
    {
        var partner = false;
        foreach (var prefix in PartnerPrefixes)
            if (model.StartsWith(prefix, StringComparison.Ordinal)) { partner = true; break; }
        if (!partner) return null;
        foreach (var mark in OpenApiMarks)
            if (model.Contains(mark, StringComparison.Ordinal)) return VertexPartnerFamily.OpenApi;
        if (model.Contains("mistral", StringComparison.Ordinal) || model.Contains("codestral", StringComparison.Ordinal)) return VertexPartnerFamily.Mistral;
        if (model.Contains("jamba", StringComparison.Ordinal)) return VertexPartnerFamily.Ai21;
        return null;
    }
}
