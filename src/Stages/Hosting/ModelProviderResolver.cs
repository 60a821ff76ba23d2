using System.Collections.Frozen;
using LLMux.Pipeline.Context;
using LLMux.Providers;
using LLMux.Stages.Accounting;

namespace LLMux.Stages.Hosting;

/// <summary>
/// Finds the provider of a <c>litellm_params.model</c> as LiteLLM does: a known <c>provider/</c> prefix first, then
/// the well-known bare families (<c>gpt-</c>, <c>claude-</c>, <c>gemini-</c>), then the price table's
/// <c>litellm_provider</c> for the id (<c>mistralai/mistral-7b-instruct</c> is listed only as
/// <c>openrouter/mistralai/mistral-7b-instruct</c>, so it goes to OpenRouter). An id the table lists for several
/// routable providers is an error naming each of them.
/// </summary>
internal static class ModelProviderResolver
{
    /// <summary>What the resolver found: a provider and the upstream id, or a problem to report (and an optional note).</summary>
    public readonly record struct Resolution(LlmProvider? Provider, string Upstream, string? Problem, string? Note);

    private static readonly Lazy<FrozenDictionary<string, string[]>> DefaultIndex = new(static () => BuildIndex(PriceTable.Default));

    public static Resolution Resolve(ProviderCatalog catalog, string model, PriceTable? prices = null)
    {
        var slash = model.IndexOf('/');
        if (slash > 0 && catalog.Find(model[..slash]) is { } prefixed)
            return new Resolution(prefixed, model[(slash + 1)..], null, null);
        var index = prices is null ? DefaultIndex.Value : BuildIndex(prices);
        var listed = index.TryGetValue(model, out var names) ? names : [];
        // An entry keyed by the bare id itself (`dall-e-3` of openai) wins over entries that only carry it after a
        // provider prefix (`aiml/dall-e-3`), as in LiteLLM, whose known-model lists hold the table's keys.
        if (Array.Exists(listed, static n => n.StartsWith(ExactMark, StringComparison.Ordinal)))
            listed = Array.FindAll(listed, static n => n.StartsWith(ExactMark, StringComparison.Ordinal));
        listed = Array.ConvertAll(listed, static n => n.StartsWith(ExactMark, StringComparison.Ordinal) ? n[ExactMark.Length..] : n);
        // A bare id of a well-known family (`gpt-`, `claude-`) goes to that family's provider, as LiteLLM's first checks
        // do, unless the price table lists it only elsewhere (`gpt-oss-120b` is served by Cerebras, SambaNova, ...).
        if (slash < 0 && ProviderModelName.TryParse(model, out var inferred, out var bare) && catalog.Find(inferred) is { } family
            && (listed.Length == 0 || Array.Exists(listed, n => ReferenceEquals(Routable(catalog, n), family))))
            return new Resolution(family, bare, null, null);

        var routable = new List<(string Name, LlmProvider Provider)>();
        var unroutable = new List<string>();
        foreach (var name in listed)
        {
            if (Routable(catalog, name) is { } p)
            {
                if (!routable.Exists(r => ReferenceEquals(r.Provider, p))) routable.Add((p.Spec.Name, p));
            }
            else if (!unroutable.Contains(name)) unroutable.Add(name);
        }

        if (routable.Count == 1)
        {
            var (name, provider) = routable[0];
            return new Resolution(provider, model, null,
                $"`{model}` has no provider prefix; the price table lists it for `{name}` only, so it is routed there (write `{name}/{model}` to say so)");
        }
        if (routable.Count > 1)
        {
            var choices = string.Join(", ", routable.ConvertAll(r => $"`{r.Name}/{model}`"));
            return new Resolution(null, model, $"`{model}` has no provider prefix and the price table lists it for {routable.Count} providers; write one of {choices}", null);
        }
        if (unroutable.Count > 0)
            return new Resolution(null, model, $"`{model}` is listed in the price table for `{string.Join("`, `", unroutable)}`, which LLMux cannot route yet (docs/parity/providers.md says why); choose a model of a routable provider", null);
        if (slash > 0)
        {
            var prefix = model[..slash];
            if (index.ContainsKey(ProviderKey(prefix)))
                return new Resolution(null, model, $"`{prefix}` is a LiteLLM provider that LLMux cannot route yet (docs/parity/providers.md says why); " + (UnroutableHints.TryGetValue(prefix, out var hint) ? hint : "choose a routable provider"), null);
            return new Resolution(null, model, $"unknown provider `{prefix}` in `{model}`; known providers: {string.Join(", ", catalog.Names)}", null);
        }
        return new Resolution(null, model, $"`{model}` names no provider; write it as provider/model (e.g. openai/{model})", null);
    }

    /// <summary>What to write instead, for LiteLLM providers whose API LLMux reaches another way.</summary>
    private static readonly FrozenDictionary<string, string> UnroutableHints = new Dictionary<string, string>
    {
        ["sagemaker"] = "if the endpoint's container serves the Messages API (TGI, LMI, vLLM), write `sagemaker_chat/<endpoint>`",
        ["text-completion-openai"] = "for chat models write `openai/<model>`",
        ["bedrock_converse"] = "write `bedrock/converse/<model id>`",
        ["cohere_chat"] = "write `cohere/<model>`",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>Marks a provider whose entry is keyed by the bare id (no provider prefix).</summary>
    private const string ExactMark = "=";

    /// <summary>Each litellm_provider value is also filed under this key, so that an unroutable prefix is recognised as LiteLLM's.</summary>
    private static string ProviderKey(string provider) => "\0provider:" + provider;

    /// <summary>The catalog provider for one of the price table's <c>litellm_provider</c> values (<c>vertex_ai-mistral_models</c> is Vertex).</summary>
    private static LlmProvider? Routable(ProviderCatalog catalog, string litellmProvider)
    {
        if (catalog.Find(litellmProvider) is { } p) return p;
        var dash = litellmProvider.IndexOf('-');
        if (dash > 0 && litellmProvider.StartsWith("vertex_ai", StringComparison.Ordinal)) return catalog.Find("vertex_ai");
        return litellmProvider == "bedrock_converse" ? catalog.Find("bedrock") : null;
    }

    /// <summary>Model id → the <c>litellm_provider</c>s that list it: <c>openrouter/x</c> of provider openrouter is filed under <c>x</c>.</summary>
    internal static FrozenDictionary<string, string[]> BuildIndex(PriceTable prices)
    {
        var map = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, price) in prices.Entries)
        {
            if (price.Provider is not { Length: > 0 } provider) continue;
            // `openrouter/x` (openrouter), `vertex_ai/x` (vertex_ai-mistral_models): the first segment names the provider.
            var slash = key.IndexOf('/');
            var prefixed = slash > 0 && provider.StartsWith(key[..slash], StringComparison.OrdinalIgnoreCase);
            var id = prefixed ? key[(slash + 1)..] : key;
            var name = prefixed ? provider : ExactMark + provider;
            if (!map.TryGetValue(id, out var list)) map[id] = list = [];
            if (!list.Contains(name)) list.Add(name);
            map.TryAdd(ProviderKey(provider), []);
        }
        return map.ToFrozenDictionary(static kv => kv.Key, static kv => kv.Value.ToArray(), StringComparer.OrdinalIgnoreCase);
    }
}
