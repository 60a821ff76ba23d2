using System.Text.Json;
using LLMux.Pipeline.Wire;
using Microsoft.Extensions.AI;

namespace LLMux.Stages.Hosting;

/// <summary><see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> over LLMux: embeddings from any LLMux provider that has them.</summary>
public sealed class LLMuxEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly ILlmClient _client;
    private readonly string? _defaultModel;
    private readonly EmbeddingGeneratorMetadata _metadata;

    public LLMuxEmbeddingGenerator(ILlmClient client, string? defaultModel = null)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        _defaultModel = defaultModel;
        _metadata = new EmbeddingGeneratorMetadata("llmux", null, defaultModel);
    }

    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        var request = options?.RawRepresentationFactory?.Invoke(this) as EmbeddingRequest ?? new EmbeddingRequest();
        request.Model = options?.ModelId ?? request.Model ?? _defaultModel
            ?? throw new InvalidOperationException("no model: set EmbeddingGenerationOptions.ModelId, or give LLMuxEmbeddingGenerator a default model");
        var inputs = values.ToArray();
        request.Input = ChatRequestMapper.Json(w => { w.WriteStartArray(); foreach (var v in inputs) w.WriteStringValue(v); w.WriteEndArray(); });
        request.EncodingFormat = "float";
        if (options?.Dimensions is { } dims) request.Dimensions = dims;
        if (options?.AdditionalProperties is { Count: > 0 } extra)
        {
            request.Extra ??= new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var (k, v) in extra) request.Extra[k] = JsonSerializer.SerializeToElement(v, ChatRequestMapper.Compact.GetTypeInfo(typeof(object)));
        }

        var response = await _client.EmbedAsync(request, cancellationToken).ConfigureAwait(false);
        var result = new GeneratedEmbeddings<Embedding<float>>(response.Data.Count);
        foreach (var item in response.Data)
        {
            var e = item.Embedding;
            var vector = new float[e.ValueKind == JsonValueKind.Array ? e.GetArrayLength() : 0];
            var i = 0;
            if (e.ValueKind == JsonValueKind.Array) foreach (var x in e.EnumerateArray()) vector[i++] = x.GetSingle();
            result.Add(new Embedding<float>(vector) { ModelId = response.Model });
        }
        if (response.Usage is { } u) result.Usage = new UsageDetails { InputTokenCount = u.PromptTokens, TotalTokenCount = u.TotalTokens };
        return result;
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(EmbeddingGeneratorMetadata)) return _metadata;
        if (serviceType == typeof(ILlmClient)) return _client;
        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    public void Dispose() { }
}
