namespace LLMux.Stages.Hosting;

/// <summary>
/// Splits LiteLLM's <c>provider/model</c> at the first slash only (<c>openrouter/meta-llama/x</c> → openrouter,
/// <c>meta-llama/x</c>); a bare name of a well-known family gets its provider inferred, as LiteLLM does.
/// The YAML loader (src/Host/Config/ConfigLoader.cs) and the IConfiguration reader both use it.
/// </summary>
public static class ProviderModelName
{
    public static bool TryParse(string model, out string provider, out string upstream)
    {
        var slash = model.IndexOf('/');
        if (slash > 0)
        {
            provider = model[..slash];
            upstream = model[(slash + 1)..];
            return true;
        }
        upstream = model;
        provider = Infer(model) ?? "";
        return provider.Length > 0;
    }

    private static string? Infer(string model) =>
        model.StartsWith("gpt-", StringComparison.Ordinal) || model.StartsWith("o1", StringComparison.Ordinal) || model.StartsWith("o3", StringComparison.Ordinal)
        || model.StartsWith("o4", StringComparison.Ordinal) || model.StartsWith("text-embedding-", StringComparison.Ordinal) || model.StartsWith("chatgpt-", StringComparison.Ordinal)
            ? "openai"
            : model.StartsWith("claude-", StringComparison.Ordinal) ? "anthropic"
            : model.StartsWith("gemini-", StringComparison.Ordinal) ? "vertex_ai"
            : null;
}
