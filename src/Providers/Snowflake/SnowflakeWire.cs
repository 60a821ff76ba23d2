using System.Text.Json;
using System.Text.Json.Serialization;

namespace LLMux.Providers.Snowflake;

/// <summary>An <c>inference:complete</c> answer, and each stream chunk (with <c>delta</c> instead of <c>message</c>).</summary>
internal sealed class CortexResponse
{
    [JsonPropertyName("id")] public string? Id { get; set; }
    [JsonPropertyName("created")] public long? Created { get; set; }
    [JsonPropertyName("model")] public string? Model { get; set; }
    [JsonPropertyName("choices")] public List<CortexChoice>? Choices { get; set; }
    [JsonPropertyName("usage")] public CortexUsage? Usage { get; set; }
}

internal sealed class CortexChoice
{
    [JsonPropertyName("message")] public CortexMessage? Message { get; set; }
    [JsonPropertyName("delta")] public CortexDelta? Delta { get; set; }
    [JsonPropertyName("finish_reason")] public string? FinishReason { get; set; }
}

internal sealed class CortexMessage
{
    [JsonPropertyName("content")] public string? Content { get; set; }
    [JsonPropertyName("content_list")] public List<CortexContentItem>? ContentList { get; set; }
}

/// <summary><c>{"type":"text","text"}</c> or <c>{"type":"tool_use","tool_use":{"tool_use_id","name","input"}}</c>.</summary>
internal sealed class CortexContentItem
{
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("text")] public string? Text { get; set; }
    [JsonPropertyName("tool_use")] public CortexToolUse? ToolUse { get; set; }
}

internal sealed class CortexToolUse
{
    [JsonPropertyName("tool_use_id")] public string? ToolUseId { get; set; }
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("input")] public JsonElement Input { get; set; }
}

/// <summary>A stream delta: text (<c>content</c>, or <c>text</c>), or a tool-use fragment (<c>tool_use_id</c>, <c>name</c>, <c>input</c> as a JSON text piece).</summary>
internal sealed class CortexDelta
{
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("content")] public string? Content { get; set; }
    [JsonPropertyName("text")] public string? Text { get; set; }
    [JsonPropertyName("tool_use_id")] public string? ToolUseId { get; set; }
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("input")] public string? Input { get; set; }
}

internal sealed class CortexUsage
{
    [JsonPropertyName("prompt_tokens")] public long PromptTokens { get; set; }
    [JsonPropertyName("completion_tokens")] public long CompletionTokens { get; set; }
    [JsonPropertyName("total_tokens")] public long TotalTokens { get; set; }
}

/// <summary>Snowflake's REST error body: <c>{"code","message","request_id"}</c>.</summary>
internal sealed class CortexErrorBody
{
    [JsonPropertyName("code")] public JsonElement Code { get; set; }
    [JsonPropertyName("message")] public string? Message { get; set; }
    [JsonPropertyName("request_id")] public string? RequestId { get; set; }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, MaxDepth = 64)]
[JsonSerializable(typeof(CortexResponse))]
[JsonSerializable(typeof(CortexErrorBody))]
internal sealed partial class SnowflakeJson : JsonSerializerContext;
