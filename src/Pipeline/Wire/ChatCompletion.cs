using System.Text.Json;
using System.Text.Json.Serialization;

namespace LLMux.Pipeline.Wire;

/// <summary>An OpenAI chat completion (non-stream answer), as providers that translate produce it.</summary>
public sealed class ChatCompletion
{
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("object")] public string Object { get; set; } = "chat.completion";
    [JsonPropertyName("created")] public long Created { get; set; }
    [JsonPropertyName("model")] public string Model { get; set; } = "";
    [JsonPropertyName("system_fingerprint")] public string? SystemFingerprint { get; set; }
    [JsonPropertyName("choices")] public List<ChatChoice> Choices { get; set; } = [];
    [JsonPropertyName("usage")] public Usage? Usage { get; set; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}

public sealed class ChatChoice
{
    [JsonPropertyName("index")] public int Index { get; set; }
    [JsonPropertyName("message")] public ChatMessage Message { get; set; } = new();
    [JsonPropertyName("finish_reason")] public string? FinishReason { get; set; }
    [JsonPropertyName("logprobs")] public JsonElement? Logprobs { get; set; }
}

/// <summary>Token usage in OpenAI's shape. Completion tokens include reasoning; prompt tokens include cached.</summary>
public sealed class Usage
{
    [JsonPropertyName("prompt_tokens")] public long PromptTokens { get; set; }
    [JsonPropertyName("completion_tokens")] public long CompletionTokens { get; set; }
    [JsonPropertyName("total_tokens")] public long TotalTokens { get; set; }
    [JsonPropertyName("prompt_tokens_details")] public PromptTokensDetails? PromptTokensDetails { get; set; }
    [JsonPropertyName("completion_tokens_details")] public CompletionTokensDetails? CompletionTokensDetails { get; set; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }

    [JsonIgnore] public long CachedTokens => PromptTokensDetails?.CachedTokens ?? 0;
    [JsonIgnore] public long CacheCreationTokens => PromptTokensDetails?.CacheCreationTokens ?? 0;
    [JsonIgnore] public long ReasoningTokens => CompletionTokensDetails?.ReasoningTokens ?? 0;
    /// <summary>Rerank search units (Cohere's <c>meta.billed_units.search_units</c>, one per Bedrock query), priced per query.</summary>
    [JsonIgnore] public long SearchUnits { get => _rare?.SearchUnits ?? 0; set { if (value != 0 || _rare is not null) Rare.SearchUnits = value; } }
    /// <summary>Images produced (image generation, edits, variations), priced per image or per pixel.</summary>
    [JsonIgnore] public long Images { get => _rare?.Images ?? 0; set { if (value != 0 || _rare is not null) Rare.Images = value; } }
    /// <summary>The images' size (<c>1024x1024</c>) and quality, for the price keys <c>{quality}/{W-x-H}/{model}</c>.</summary>
    [JsonIgnore] public string? ImageSize { get => _rare?.ImageSize; set { if (value is not null || _rare is not null) Rare.ImageSize = value; } }
    [JsonIgnore] public string? ImageQuality { get => _rare?.ImageQuality; set { if (value is not null || _rare is not null) Rare.ImageQuality = value; } }
    /// <summary>An exact price-table key the provider computed for the images (Bedrock SDXL's <c>{W-x-H}/{steps}/{model}</c>), tried first.</summary>
    [JsonIgnore] public string? ImagePriceKey { get => _rare?.ImagePriceKey; set { if (value is not null || _rare is not null) Rare.ImagePriceKey = value; } }
    /// <summary>gpt-image: the image part of the input tokens (<c>input_tokens_details.image_tokens</c>); the output tokens are image tokens.</summary>
    [JsonIgnore] public long InputImageTokens { get => _rare?.InputImageTokens ?? 0; set { if (value != 0 || _rare is not null) Rare.InputImageTokens = value; } }
    [JsonIgnore] public bool ImageTokens { get => _rare?.ImageTokens ?? false; set { if (value || _rare is not null) Rare.ImageTokens = value; } }
    /// <summary>Characters of text to speech, priced per character (tts-1, tts-1-hd).</summary>
    [JsonIgnore] public long Characters { get => _rare?.Characters ?? 0; set { if (value != 0 || _rare is not null) Rare.Characters = value; } }
    /// <summary>Seconds of audio transcribed or translated (whisper's duration pricing).</summary>
    [JsonIgnore] public decimal AudioSeconds { get => _rare?.AudioSeconds ?? 0; set { if (value != 0 || _rare is not null) Rare.AudioSeconds = value; } }

    // The units of the non-token modes (rerank, images, speech, transcription) live in one object allocated only when
    // one is set: the usage a chat call reads from every answer stays small (the public properties are unchanged).
    private RareUnits? _rare;
    private RareUnits Rare => _rare ??= new();

    private sealed class RareUnits
    {
        public long SearchUnits;
        public long Images;
        public string? ImageSize;
        public string? ImageQuality;
        public string? ImagePriceKey;
        public long InputImageTokens;
        public bool ImageTokens;
        public long Characters;
        public decimal AudioSeconds;
    }
}

public sealed class PromptTokensDetails
{
    [JsonPropertyName("cached_tokens")] public long? CachedTokens { get; set; }
    [JsonPropertyName("audio_tokens")] public long? AudioTokens { get; set; }
    /// <summary>Anthropic/Bedrock cache writes (LiteLLM's <c>cache_creation_tokens</c>).</summary>
    [JsonPropertyName("cache_creation_tokens")] public long? CacheCreationTokens { get; set; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}

public sealed class CompletionTokensDetails
{
    [JsonPropertyName("reasoning_tokens")] public long? ReasoningTokens { get; set; }
    [JsonPropertyName("audio_tokens")] public long? AudioTokens { get; set; }
    [JsonPropertyName("accepted_prediction_tokens")] public long? AcceptedPredictionTokens { get; set; }
    [JsonPropertyName("rejected_prediction_tokens")] public long? RejectedPredictionTokens { get; set; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}

/// <summary>An OpenAI embeddings answer.</summary>
public sealed class EmbeddingResponse
{
    [JsonPropertyName("object")] public string Object { get; set; } = "list";
    [JsonPropertyName("data")] public List<EmbeddingItem> Data { get; set; } = [];
    [JsonPropertyName("model")] public string Model { get; set; } = "";
    [JsonPropertyName("usage")] public Usage? Usage { get; set; }
}

public sealed class EmbeddingItem
{
    [JsonPropertyName("object")] public string Object { get; set; } = "embedding";
    [JsonPropertyName("index")] public int Index { get; set; }
    /// <summary>A float array, or a base64 string when the client asked for <c>encoding_format: base64</c>.</summary>
    [JsonPropertyName("embedding")] public JsonElement Embedding { get; set; }
}
