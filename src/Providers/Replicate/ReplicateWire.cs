using System.Text.Json;
using System.Text.Json.Serialization;

namespace LLMux.Providers.Replicate;

// Replicate's HTTP API (predictions): the create body, the prediction object it answers and polls, and its error body.

internal sealed record ReplicateCreatePrediction
{
    /// <summary>Only for <c>POST /v1/predictions</c>: the model version id (<c>owner/name:version</c>).</summary>
    [JsonPropertyName("version")] public string? Version { get; init; }
    [JsonPropertyName("input")] public required ReplicateInput Input { get; init; }
    /// <summary>Asks for <c>urls.stream</c> (models that can stream always get it; older ones need this).</summary>
    [JsonPropertyName("stream")] public bool? Stream { get; init; }
}

/// <summary>The language-model inputs LiteLLM sends (ReplicateConfig); unknown ones a model does not take are ignored by Replicate.</summary>
internal sealed record ReplicateInput
{
    [JsonPropertyName("prompt")] public required string Prompt { get; init; }
    [JsonPropertyName("system_prompt")] public string? SystemPrompt { get; init; }
    [JsonPropertyName("max_new_tokens")] public int? MaxNewTokens { get; init; }
    [JsonPropertyName("max_length")] public int? MaxLength { get; init; }
    [JsonPropertyName("max_tokens")] public int? MaxTokens { get; init; }
    [JsonPropertyName("temperature")] public double? Temperature { get; init; }
    [JsonPropertyName("top_p")] public double? TopP { get; init; }
    [JsonPropertyName("top_k")] public int? TopK { get; init; }
    /// <summary>Comma-separated, as Replicate's LLMs take it.</summary>
    [JsonPropertyName("stop_sequences")] public string? StopSequences { get; init; }
    [JsonPropertyName("seed")] public long? Seed { get; init; }
}

internal sealed record ReplicatePrediction
{
    [JsonPropertyName("id")] public string? Id { get; init; }
    /// <summary><c>starting</c>, <c>processing</c>, <c>succeeded</c>, <c>failed</c>, <c>canceled</c>.</summary>
    [JsonPropertyName("status")] public string? Status { get; init; }
    /// <summary>A language model's output: an array of text pieces (or, for some models, one string).</summary>
    [JsonPropertyName("output")] public JsonElement? Output { get; init; }
    [JsonPropertyName("error")] public JsonElement? Error { get; init; }
    [JsonPropertyName("urls")] public ReplicateUrls? Urls { get; init; }
    [JsonPropertyName("metrics")] public ReplicateMetrics? Metrics { get; init; }

    [JsonIgnore] public bool IsTerminal => Status is "succeeded" or "failed" or "canceled";
}

internal sealed record ReplicateUrls
{
    [JsonPropertyName("get")] public string? Get { get; init; }
    [JsonPropertyName("cancel")] public string? Cancel { get; init; }
    [JsonPropertyName("stream")] public string? Stream { get; init; }
}

internal sealed record ReplicateMetrics
{
    [JsonPropertyName("input_token_count")] public long? InputTokenCount { get; init; }
    [JsonPropertyName("output_token_count")] public long? OutputTokenCount { get; init; }
}

/// <summary>Replicate's problem body: <c>{"title","detail","status"}</c>.</summary>
internal sealed record ReplicateProblem
{
    [JsonPropertyName("title")] public string? Title { get; init; }
    [JsonPropertyName("detail")] public string? Detail { get; init; }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ReplicateCreatePrediction))]
[JsonSerializable(typeof(ReplicatePrediction))]
[JsonSerializable(typeof(ReplicateMetrics))]
[JsonSerializable(typeof(ReplicateProblem))]
internal sealed partial class ReplicateJson : JsonSerializerContext;
