using System.Text.Json;
using System.Text.Json.Serialization;

namespace LLMux.Providers.Oci;

// OCI Generative AI inference API 20231130 (ChatDetails, GenericChatRequest, CohereChatRequest, ChatResult and the
// SSE events of a streamed chat), as typed records. Only what LLMux writes or reads is named; the mapping lives in
// OciRequestWriter, OciResponseReader and OciStreamTranslator.

internal sealed record OciChatDetails
{
    [JsonPropertyName("compartmentId")] public required string CompartmentId { get; init; }
    [JsonPropertyName("servingMode")] public required OciServingMode ServingMode { get; init; }
    [JsonPropertyName("chatRequest")] public required OciChatRequest ChatRequest { get; init; }
}

internal sealed record OciServingMode
{
    /// <summary><c>ON_DEMAND</c> (with <see cref="ModelId"/>) or <c>DEDICATED</c> (with <see cref="EndpointId"/>).</summary>
    [JsonPropertyName("servingType")] public required string ServingType { get; init; }
    [JsonPropertyName("modelId")] public string? ModelId { get; init; }
    [JsonPropertyName("endpointId")] public string? EndpointId { get; init; }
}

/// <summary>Both request formats in one record: <c>apiFormat</c> says which fields OCI reads.</summary>
internal sealed record OciChatRequest
{
    /// <summary><c>GENERIC</c> (Meta, xAI, OpenAI, Google models) or <c>COHERE</c>.</summary>
    [JsonPropertyName("apiFormat")] public required string ApiFormat { get; init; }
    // GENERIC
    [JsonPropertyName("messages")] public List<OciMessage>? Messages { get; init; }
    [JsonPropertyName("numGenerations")] public int? NumGenerations { get; init; }
    [JsonPropertyName("stop")] public IReadOnlyList<string>? Stop { get; init; }
    [JsonPropertyName("logProbs")] public int? LogProbs { get; init; }
    [JsonPropertyName("logitBias")] public JsonElement? LogitBias { get; init; }
    [JsonPropertyName("toolChoice")] public OciToolChoice? ToolChoice { get; init; }
    [JsonPropertyName("streamOptions")] public OciStreamOptions? StreamOptions { get; init; }
    // COHERE
    [JsonPropertyName("message")] public string? Message { get; init; }
    [JsonPropertyName("chatHistory")] public List<OciCohereMessage>? ChatHistory { get; init; }
    [JsonPropertyName("preambleOverride")] public string? PreambleOverride { get; init; }
    [JsonPropertyName("stopSequences")] public IReadOnlyList<string>? StopSequences { get; init; }
    [JsonPropertyName("topK")] public int? TopK { get; init; }
    // both
    [JsonPropertyName("isStream")] public bool IsStream { get; init; }
    [JsonPropertyName("maxTokens")] public int? MaxTokens { get; init; }
    [JsonPropertyName("temperature")] public double? Temperature { get; init; }
    [JsonPropertyName("topP")] public double? TopP { get; init; }
    [JsonPropertyName("seed")] public long? Seed { get; init; }
    [JsonPropertyName("frequencyPenalty")] public double? FrequencyPenalty { get; init; }
    [JsonPropertyName("presencePenalty")] public double? PresencePenalty { get; init; }
    /// <summary>GENERIC: <see cref="OciTool"/>; COHERE: <see cref="OciCohereTool"/> (written as the object it is).</summary>
    [JsonPropertyName("tools")] public List<object>? Tools { get; init; }
    [JsonPropertyName("responseFormat")] public OciResponseFormat? ResponseFormat { get; init; }
}

internal sealed record OciMessage
{
    /// <summary><c>SYSTEM</c>, <c>USER</c>, <c>ASSISTANT</c>, <c>TOOL</c>.</summary>
    [JsonPropertyName("role")] public required string Role { get; init; }
    [JsonPropertyName("content")] public List<OciContent>? Content { get; init; }
    [JsonPropertyName("toolCalls")] public List<OciToolCall>? ToolCalls { get; init; }
    [JsonPropertyName("toolCallId")] public string? ToolCallId { get; init; }
}

internal sealed record OciContent
{
    /// <summary><c>TEXT</c> or <c>IMAGE</c>.</summary>
    [JsonPropertyName("type")] public required string Type { get; init; }
    [JsonPropertyName("text")] public string? Text { get; init; }
    [JsonPropertyName("imageUrl")] public OciImageUrl? ImageUrl { get; init; }
}

internal sealed record OciImageUrl
{
    [JsonPropertyName("url")] public required string Url { get; init; }
    [JsonPropertyName("detail")] public string? Detail { get; init; }
}

internal sealed record OciToolCall
{
    [JsonPropertyName("id")] public string? Id { get; init; }
    [JsonPropertyName("type")] public string Type { get; init; } = "FUNCTION";
    [JsonPropertyName("name")] public string? Name { get; init; }
    /// <summary>A JSON string, as OpenAI's <c>arguments</c>.</summary>
    [JsonPropertyName("arguments")] public string? Arguments { get; init; }
}

internal sealed record OciTool
{
    [JsonPropertyName("type")] public string Type { get; init; } = "FUNCTION";
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("description")] public string Description { get; init; } = "";
    [JsonPropertyName("parameters")] public JsonElement? Parameters { get; init; }
}

internal sealed record OciToolChoice
{
    /// <summary><c>AUTO</c>, <c>NONE</c>, <c>REQUIRED</c> or <c>FUNCTION</c> (with <see cref="Name"/>).</summary>
    [JsonPropertyName("type")] public required string Type { get; init; }
    [JsonPropertyName("name")] public string? Name { get; init; }
}

internal sealed record OciStreamOptions
{
    [JsonPropertyName("isIncludeUsage")] public bool IsIncludeUsage { get; init; }
}

internal sealed record OciResponseFormat
{
    /// <summary>GENERIC: <c>TEXT</c>, <c>JSON_OBJECT</c>, <c>JSON_SCHEMA</c>; COHERE: <c>TEXT</c>, <c>JSON_OBJECT</c>.</summary>
    [JsonPropertyName("type")] public required string Type { get; init; }
    [JsonPropertyName("jsonSchema")] public OciJsonSchema? JsonSchema { get; init; }
    /// <summary>COHERE's JSON_OBJECT takes the schema itself.</summary>
    [JsonPropertyName("schema")] public JsonElement? Schema { get; init; }
}

internal sealed record OciJsonSchema
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("description")] public string? Description { get; init; }
    [JsonPropertyName("schema")] public JsonElement? Schema { get; init; }
    [JsonPropertyName("isStrict")] public bool? IsStrict { get; init; }
}

internal sealed record OciCohereMessage
{
    /// <summary><c>USER</c>, <c>CHATBOT</c>, <c>SYSTEM</c>, <c>TOOL</c>.</summary>
    [JsonPropertyName("role")] public required string Role { get; init; }
    [JsonPropertyName("message")] public string? Message { get; init; }
    [JsonPropertyName("toolCalls")] public List<OciCohereToolCall>? ToolCalls { get; init; }
}

internal sealed record OciCohereToolCall
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("parameters")] public JsonElement? Parameters { get; init; }
}

internal sealed record OciCohereTool
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("description")] public string Description { get; init; } = "";
    [JsonPropertyName("parameterDefinitions")] public required Dictionary<string, OciCohereParameter> ParameterDefinitions { get; init; }
}

internal sealed record OciCohereParameter
{
    [JsonPropertyName("description")] public string Description { get; init; } = "";
    [JsonPropertyName("type")] public string Type { get; init; } = "string";
    [JsonPropertyName("isRequired")] public bool IsRequired { get; init; }
}

// ---- answers ----

internal sealed record OciChatResult
{
    [JsonPropertyName("modelId")] public string? ModelId { get; init; }
    [JsonPropertyName("modelVersion")] public string? ModelVersion { get; init; }
    [JsonPropertyName("chatResponse")] public OciChatResponse? ChatResponse { get; init; }
}

internal sealed record OciChatResponse
{
    [JsonPropertyName("apiFormat")] public string? ApiFormat { get; init; }
    [JsonPropertyName("timeCreated")] public DateTimeOffset? TimeCreated { get; init; }
    // GENERIC
    [JsonPropertyName("choices")] public List<OciChoice>? Choices { get; init; }
    // COHERE
    [JsonPropertyName("text")] public string? Text { get; init; }
    [JsonPropertyName("finishReason")] public string? FinishReason { get; init; }
    [JsonPropertyName("toolCalls")] public List<OciCohereToolCall>? ToolCalls { get; init; }
    // both
    [JsonPropertyName("usage")] public OciUsage? Usage { get; init; }
}

internal sealed record OciChoice
{
    [JsonPropertyName("index")] public int Index { get; init; }
    [JsonPropertyName("message")] public OciMessageAnswer? Message { get; init; }
    [JsonPropertyName("finishReason")] public string? FinishReason { get; init; }
}

/// <summary>A message as OCI answers it (GENERIC answers and stream events); the role may be absent in events.</summary>
internal sealed record OciMessageAnswer
{
    [JsonPropertyName("role")] public string? Role { get; init; }
    [JsonPropertyName("content")] public List<OciContent>? Content { get; init; }
    [JsonPropertyName("toolCalls")] public List<OciToolCall>? ToolCalls { get; init; }
}

internal sealed record OciUsage
{
    [JsonPropertyName("promptTokens")] public long PromptTokens { get; init; }
    [JsonPropertyName("completionTokens")] public long CompletionTokens { get; init; }
    [JsonPropertyName("totalTokens")] public long TotalTokens { get; init; }
    [JsonPropertyName("promptTokensDetails")] public OciPromptTokensDetails? PromptTokensDetails { get; init; }
    [JsonPropertyName("completionTokensDetails")] public OciCompletionTokensDetails? CompletionTokensDetails { get; init; }
}

internal sealed record OciPromptTokensDetails
{
    [JsonPropertyName("cachedTokens")] public long? CachedTokens { get; init; }
}

internal sealed record OciCompletionTokensDetails
{
    [JsonPropertyName("reasoningTokens")] public long? ReasoningTokens { get; init; }
}

/// <summary>One SSE event of a streamed chat: GENERIC carries <c>message</c>, COHERE <c>apiFormat: COHERE</c> and <c>text</c>.</summary>
internal sealed record OciStreamEvent
{
    [JsonPropertyName("apiFormat")] public string? ApiFormat { get; init; }
    [JsonPropertyName("index")] public int? Index { get; init; }
    [JsonPropertyName("message")] public OciMessageAnswer? Message { get; init; }
    [JsonPropertyName("text")] public string? Text { get; init; }
    [JsonPropertyName("toolCalls")] public List<OciCohereToolCall>? ToolCalls { get; init; }
    [JsonPropertyName("finishReason")] public string? FinishReason { get; init; }
    [JsonPropertyName("usage")] public OciUsage? Usage { get; init; }
}

/// <summary>OCI's error body: <c>{"code","message"}</c>.</summary>
internal sealed record OciErrorBody
{
    [JsonPropertyName("code")] public string? Code { get; init; }
    [JsonPropertyName("message")] public string? Message { get; init; }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(OciChatDetails))]
[JsonSerializable(typeof(OciTool))]
[JsonSerializable(typeof(OciCohereTool))]
[JsonSerializable(typeof(OciChatResult))]
[JsonSerializable(typeof(OciStreamEvent))]
[JsonSerializable(typeof(OciErrorBody))]
internal sealed partial class OciJson : JsonSerializerContext;
