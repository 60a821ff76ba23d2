using LLMux.Pipeline.Context;

namespace LLMux.Stages.Routing;

/// <summary>
/// Where a deployment runs, as an end user's <c>allowed_model_region</c> (<c>eu</c> / <c>us</c>) sees it: its
/// <c>litellm_params.region_name</c> when that is <c>eu</c> or <c>us</c>, else inferred from its cloud region
/// (<c>region_name</c>, <c>vertex_location</c>, <c>aws_region_name</c>) as LiteLLM infers it for Azure, Vertex and
/// Bedrock. A deployment whose region is not known is in none.
/// </summary>
public static class DeploymentRegion
{
    // LiteLLM's lists: Azure (europe, sweden, switzerland, france, uk), Vertex (europe-*), Bedrock (eu-*).
    private static readonly string[] EuHints = ["eu-", "europe", "sweden", "switzerland", "france", "uk", "germany", "norway", "poland", "italy", "spain"];

    public static string? Of(Deployment d)
    {
        var named = d.Setting("region_name");
        if (named is "eu" or "us") return named;
        var region = (NonEmpty(named) ?? NonEmpty(d.Setting("vertex_location")) ?? NonEmpty(d.Setting("aws_region_name")))?.ToLowerInvariant();
        if (region is null) return null;
        foreach (var hint in EuHints) if (region.StartsWith(hint, StringComparison.Ordinal) || (hint.Length > 3 && region.Contains(hint, StringComparison.Ordinal))) return "eu";
        // us-east-1 / us-central1 (AWS, Vertex); eastus, westus2, southcentralus (Azure).
        if (region.StartsWith("us", StringComparison.Ordinal) || region.TrimEnd("0123456789".ToCharArray()).EndsWith("us", StringComparison.Ordinal)) return "us";
        return null;
    }

    /// <summary>The deployments of <paramref name="group"/> in <paramref name="region"/> (the same list when all are).</summary>
    public static IReadOnlyList<Deployment> InRegion(IReadOnlyList<Deployment> group, string region)
    {
        var all = true;
        foreach (var d in group) if (!string.Equals(Of(d), region, StringComparison.Ordinal)) { all = false; break; }
        if (all) return group;
        var kept = new List<Deployment>(group.Count);
        foreach (var d in group) if (string.Equals(Of(d), region, StringComparison.Ordinal)) kept.Add(d);
        return kept;
    }

    private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
}
