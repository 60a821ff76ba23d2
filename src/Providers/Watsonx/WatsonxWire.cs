using System.Text.Json;
using System.Text.Json.Serialization;

namespace LLMux.Providers.Watsonx;

/// <summary>A <c>text/chat</c> answer, and each <c>text/chat_stream</c> event's data (with <c>delta</c> instead of <c>message</c>).</summary>
internal sealed class WatsonxChatResponse
{
    [JsonPropertyName("id")] public string? Id { get; set; }
    [JsonPropertyName("model_id")] public string? ModelId { get; set; }
    [JsonPropertyName("model")] public string? Model { get; set; }
    [JsonPropertyName("created")] public long? Created { get; set; }
    [JsonPropertyName("choices")] public List<WatsonxChoice>? Choices { get; set; }
    [JsonPropertyName("usage")] public WatsonxUsage? Usage { get; set; }
}

internal sealed class WatsonxChoice
{
    [JsonPropertyName("index")] public int Index { get; set; }
    [JsonPropertyName("message")] public WatsonxMessage? Message { get; set; }
    [JsonPropertyName("delta")] public WatsonxMessage? Delta { get; set; }
    [JsonPropertyName("finish_reason")] public string? FinishReason { get; set; }
    [JsonPropertyName("logprobs")] public JsonElement? Logprobs { get; set; }
}

internal sealed class WatsonxMessage
{
    [JsonPropertyName("role")] public string? Role { get; set; }
    [JsonPropertyName("content")] public string? Content { get; set; }
    [JsonPropertyName("reasoning_content")] public string? ReasoningContent { get; set; }
    [JsonPropertyName("refusal")] public string? Refusal { get; set; }
    [JsonPropertyName("tool_calls")] public List<WatsonxToolCall>? ToolCalls { get; set; }
}

internal sealed class WatsonxToolCall
{
    [JsonPropertyName("index")] public int? Index { get; set; }
    [JsonPropertyName("id")] public string? Id { get; set; }
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("function")] public WatsonxFunction? Function { get; set; }
}

internal sealed class WatsonxFunction
{
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("arguments")] public string? Arguments { get; set; }
}

internal sealed class WatsonxUsage
{
    [JsonPropertyName("prompt_tokens")] public long PromptTokens { get; set; }
    [JsonPropertyName("completion_tokens")] public long CompletionTokens { get; set; }
    [JsonPropertyName("total_tokens")] public long TotalTokens { get; set; }
}

/// <summary>IBM's error body: <c>{"errors":[{"code","message","more_info"}],"trace","status_code"}</c> (also a stream's <c>event: error</c>).</summary>
internal sealed class WatsonxErrorBody
{
    [JsonPropertyName("errors")] public List<WatsonxErrorItem>? Errors { get; set; }
    [JsonPropertyName("trace")] public string? Trace { get; set; }
    [JsonPropertyName("status_code")] public int? StatusCode { get; set; }
}

internal sealed class WatsonxErrorItem
{
    [JsonPropertyName("code")] public string? Code { get; set; }
    [JsonPropertyName("message")] public string? Message { get; set; }
}

/// <summary>A <c>text/embeddings</c> answer.</summary>
internal sealed class WatsonxEmbeddingResponse
{
    [JsonPropertyName("model_id")] public string? ModelId { get; set; }
    [JsonPropertyName("results")] public List<WatsonxEmbeddingResult>? Results { get; set; }
    [JsonPropertyName("input_token_count")] public long InputTokenCount { get; set; }
}

internal sealed class WatsonxEmbeddingResult
{
    [JsonPropertyName("embedding")] public JsonElement Embedding { get; set; }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, MaxDepth = 64)]
[JsonSerializable(typeof(WatsonxChatResponse))]
[JsonSerializable(typeof(WatsonxErrorBody))]
[JsonSerializable(typeof(WatsonxEmbeddingResponse))]
internal sealed partial class WatsonxJson : JsonSerializerContext;
