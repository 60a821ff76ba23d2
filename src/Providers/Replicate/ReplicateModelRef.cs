namespace LLMux.Providers.Replicate;

/// <summary>
/// Where a <c>replicate/</c> model id creates its predictions (Replicate's HTTP API): <c>owner/name</c> →
/// <c>POST /models/{owner}/{name}/predictions</c> (the model's latest version), <c>owner/name:version</c> or a bare
/// version id → <c>POST /predictions</c> with <c>version</c>, <c>deployments/owner/name</c> →
/// <c>POST /deployments/{owner}/{name}/predictions</c>.
/// </summary>
internal readonly record struct ReplicateModelRef(string Path, string? Version)
{
    public static ReplicateModelRef Parse(string model)
    {
        var colon = model.IndexOf(':');
        if (colon >= 0) return new("predictions", model[(colon + 1)..]);
        if (model.StartsWith("deployments/", StringComparison.Ordinal)) return new(model + "/predictions", null);
        if (!model.Contains('/')) return new("predictions", model);
        return new("models/" + model + "/predictions", null);
    }
}
