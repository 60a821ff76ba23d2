using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Context;
using LLMux.Providers.Anthropic;
using LLMux.Providers.Gemini;
using LLMux.Providers.Bedrock;
using LLMux.Providers.Mock;
using LLMux.Providers.OpenAI;

namespace LLMux.Providers;

/// <summary>Every provider LLMux knows, by config prefix (and aliases). Built once at startup.</summary>
public sealed class ProviderCatalog
{
    private readonly Dictionary<string, LlmProvider> _byName = new(StringComparer.Ordinal);
    private readonly List<LlmProvider> _providers = [];

    public ProviderCatalog(TimeProvider? timeProvider = null)
    {
        var time = timeProvider ?? TimeProvider.System;
        Add(new OpenAIProvider());
        Add(new MockProvider(time));
        Add(new AnthropicProvider());
        Add(new GeminiProvider());
        Add(new VertexProvider(time));
        Add(new BedrockProvider(time));
        Add(new Ollama.OllamaChatProvider());
        Add(new Cohere.CohereProvider());
        Add(new SageMaker.SageMakerProvider(time));
        Add(new Voyage.VoyageProvider());
        Add(new Watsonx.WatsonxProvider(time));
        Add(new Snowflake.SnowflakeProvider(time));
        Add(new Oci.OciProvider(time));
        Add(new Replicate.ReplicateProvider(time));
        foreach (var row in OpenAICompatible.CompatibleProviderRows.All) Add(new OpenAICompatible.CompatibleProvider(row));
        foreach (var provider in Modes.ModeProviders.Create()) Add(provider);
        // Databricks is its row plus OAuth M2M (Databricks/DatabricksProvider.cs).
        foreach (var row in OpenAICompatible.HostedCompatibleRows.All)
            Add(ReferenceEquals(row, OpenAICompatible.HostedCompatibleRows.Databricks) ? new Databricks.DatabricksProvider(time) : new OpenAICompatible.CompatibleProvider(row));
    }

    public IReadOnlyList<LlmProvider> Providers => _providers;

    /// <summary>Every provider's spec, and the specs of the wire-format variants behind a prefix (<c>bedrock/invoke</c>).</summary>
    public IEnumerable<ProviderSpec> Specs => _providers.SelectMany(static p => p.Variants.Select(static v => v.Spec).Prepend(p.Spec));

    public void Add(LlmProvider provider)
    {
        _providers.Add(provider);
        _byName[provider.Spec.Name] = provider;
        foreach (var alias in provider.Spec.Aliases) _byName[alias] = provider;
        // A variant is found by its own spec name too (`bedrock/invoke`), for the matrix and `llmux capabilities`.
        foreach (var variant in provider.Variants) _byName[variant.Spec.Name] = variant;
    }

    public LlmProvider? Find(string name) => _byName.TryGetValue(name, out var p) ? p : null;

    public IEnumerable<string> Names => _byName.Keys.Order(StringComparer.Ordinal);
}
