using LLMux.Pipeline.Capabilities;
using LLMux.Providers;

namespace LLMux.Host.Capabilities;

/// <summary>One cell of the matrix: how one provider treats one parameter in one mode.</summary>
internal readonly record struct CapabilityCell(string Param, ParamSupportKind Kind, string? MappedTo, string? Note, bool Listed);

/// <summary>
/// The capability matrix as data, read from the provider specs: every provider, every mode, and one cell per
/// OpenAI parameter (plus the provider's own extras). The markdown, the JSON endpoint and the CLI all print this.
/// </summary>
internal static class CapabilityMatrix
{
    /// <summary>Every mode in the order the docs show them.</summary>
    public static IReadOnlyList<LlmMode> AllModes { get; } = Enum.GetValues<LlmMode>();

    /// <summary>The specs, sorted by config prefix so the output is stable.</summary>
    public static IReadOnlyList<ProviderSpec> Specs(ProviderCatalog catalog) =>
        catalog.Specs.OrderBy(static s => s.Name, StringComparer.Ordinal).ToArray();

    /// <summary>The parameter table for one mode: the OpenAI names first, in their usual order, then the provider's own.</summary>
    public static IReadOnlyList<CapabilityCell> Cells(ProviderSpec spec, LlmMode mode)
    {
        var canonical = mode switch { LlmMode.Embeddings => OpenAIParamNames.Embeddings, LlmMode.Responses => ResponsesParams.Names, LlmMode.Chat => OpenAIParamNames.Chat, _ => ModeParamNames.For(mode) };
        var table = spec.TableFor(mode);
        var cells = new List<CapabilityCell>(canonical.Count + table.Count);
        foreach (var p in canonical)
        {
            var listed = table.TryGetValue(p, out var rule);
            if (!listed) rule = spec.RuleFor(mode, p);
            cells.Add(new CapabilityCell(p, rule.Kind, rule.MappedTo, rule.Note, listed));
        }
        foreach (var p in table.Keys.Where(k => !canonical.Contains(k) && !OpenAIParamNames.GatewayOnly.Contains(k)).Order(StringComparer.Ordinal))
        {
            var rule = table[p];
            cells.Add(new CapabilityCell(p, rule.Kind, rule.MappedTo, rule.Note, true));
        }
        return cells;
    }

    /// <summary>The modes that have a parameter table.</summary>
    public static IEnumerable<LlmMode> TableModes(ProviderSpec spec)
    {
        if (spec.Supports(LlmMode.Chat)) yield return LlmMode.Chat;
        if (spec.Supports(LlmMode.Embeddings)) yield return LlmMode.Embeddings;
        // The other modes with a table of their own (a bridged completion table is the same for every chat provider: shown once).
        foreach (var mode in AllModes)
            if (mode is not (LlmMode.Chat or LlmMode.Embeddings or LlmMode.Responses) && spec.ModeParams.TryGetValue(mode, out var t) && t.Count > 0) yield return mode;
    }

    public static string KindName(ParamSupportKind kind) => kind switch
    {
        ParamSupportKind.Native => "native",
        ParamSupportKind.Mapped => "mapped",
        ParamSupportKind.Rejected => "rejected",
        _ => "dropped",
    };

    public static string AuthName(AuthScheme auth) => auth switch
    {
        AuthScheme.None => "none",
        AuthScheme.Bearer => "Authorization: Bearer",
        AuthScheme.XApiKey => "x-api-key",
        AuthScheme.ApiKeyHeader => "api-key",
        AuthScheme.GoogApiKey => "x-goog-api-key",
        AuthScheme.SigV4 => "AWS SigV4",
        AuthScheme.GoogleServiceAccount => "Google service account (OAuth)",
        AuthScheme.OciSignature => "OCI request signature (rsa-sha256)",
        _ => auth.ToString(),
    };

    public static string StreamName(StreamFormat format) => format switch
    {
        StreamFormat.Sse => "sse",
        StreamFormat.JsonArray => "json_array",
        StreamFormat.EventStream => "eventstream",
        StreamFormat.Ndjson => "ndjson",
        _ => format.ToString().ToLowerInvariant(),
    };

    /// <summary>Finds the spec for <c>provider/model</c> or a bare provider name.</summary>
    public static ProviderSpec? Find(ProviderCatalog catalog, string providerOrModel)
    {
        var slash = providerOrModel.IndexOf('/');
        var name = slash > 0 ? providerOrModel[..slash] : providerOrModel;
        var provider = catalog.Find(name);
        return slash > 0 && slash < providerOrModel.Length - 1 ? provider?.ForModel(providerOrModel[(slash + 1)..]).Spec : provider?.Spec;
    }
}
