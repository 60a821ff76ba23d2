using System.Text.Json;
using System.Text.Json.Serialization;

namespace LLMux.Pipeline.Wire;

/// <summary>
/// An OpenAI chat-completions request. Fields LLMux does not name are kept in <see cref="Extra"/>
/// so that a passthrough loses nothing.
/// </summary>
public sealed class ChatRequest
{
    [JsonPropertyName("model")] public string? Model { get; set; }
    [JsonPropertyName("messages"), JsonConverter(typeof(ChatMessagesConverter))] public List<ChatMessage>? Messages { get; set; }
    [JsonPropertyName("stream")] public bool? Stream { get; set; }
    [JsonPropertyName("stream_options")] public StreamOptions? StreamOptions { get; set; }
    [JsonPropertyName("temperature")] public double? Temperature { get; set; }
    [JsonPropertyName("top_p")] public double? TopP { get; set; }
    [JsonPropertyName("n")] public int? N { get; set; }
    [JsonPropertyName("max_tokens")] public int? MaxTokens { get; set; }
    [JsonPropertyName("max_completion_tokens")] public int? MaxCompletionTokens { get; set; }
    [JsonPropertyName("stop")] public JsonElement? Stop { get; set; }
    [JsonPropertyName("presence_penalty")] public double? PresencePenalty { get; set; }
    [JsonPropertyName("frequency_penalty")] public double? FrequencyPenalty { get; set; }
    [JsonPropertyName("logit_bias")] public JsonElement? LogitBias { get; set; }
    [JsonPropertyName("logprobs")] public bool? Logprobs { get; set; }
    [JsonPropertyName("top_logprobs")] public int? TopLogprobs { get; set; }
    [JsonPropertyName("seed")] public long? Seed { get; set; }
    [JsonPropertyName("user")] public string? User { get; set; }
    [JsonPropertyName("tools")] public List<ToolDefinition>? Tools { get; set; }
    [JsonPropertyName("tool_choice")] public JsonElement? ToolChoice { get; set; }
    [JsonPropertyName("parallel_tool_calls")] public bool? ParallelToolCalls { get; set; }
    [JsonPropertyName("response_format")] public JsonElement? ResponseFormat { get; set; }
    [JsonPropertyName("reasoning_effort")] public string? ReasoningEffort { get; set; }
    [JsonPropertyName("functions")] public JsonElement? Functions { get; set; }
    [JsonPropertyName("function_call")] public JsonElement? FunctionCall { get; set; }
    [JsonPropertyName("drop_params")] public bool? DropParams { get; set; }

    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }

    [JsonIgnore] public bool IsStream => Stream == true;
    [JsonIgnore] public bool IncludeUsage => StreamOptions?.IncludeUsage == true;
    /// <summary>The stop sequences whether sent as one string or an array.</summary>
    public IReadOnlyList<string> StopSequences()
    {
        if (Stop is not { } s) return [];
        if (s.ValueKind == JsonValueKind.String) return [s.GetString()!];
        if (s.ValueKind != JsonValueKind.Array) return [];
        var list = new List<string>(s.GetArrayLength());
        foreach (var e in s.EnumerateArray()) if (e.ValueKind == JsonValueKind.String) list.Add(e.GetString()!);
        return list;
    }
}

public sealed class StreamOptions
{
    [JsonPropertyName("include_usage")] public bool? IncludeUsage { get; set; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}

public sealed class ChatMessage
{
    [JsonPropertyName("role")] public string? Role { get; set; }
    /// <summary>A string, an array of content parts, or null (assistant turns with tool calls).</summary>
    [JsonPropertyName("content")] public JsonElement? Content { get; set; }
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("tool_calls")] public List<ToolCall>? ToolCalls { get; set; }
    [JsonPropertyName("tool_call_id")] public string? ToolCallId { get; set; }
    [JsonPropertyName("function_call")] public JsonElement? FunctionCall { get; set; }
    [JsonPropertyName("reasoning_content")] public string? ReasoningContent { get; set; }
    [JsonPropertyName("thinking_blocks")] public JsonElement? ThinkingBlocks { get; set; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }

    /// <summary>Content as plain text when it is a string, or the concatenated text parts.</summary>
    public string? TextContent()
    {
        if (Content is not { } c) return null;
        if (c.ValueKind == JsonValueKind.String) return c.GetString();
        if (c.ValueKind != JsonValueKind.Array) return null;
        string? text = null;
        foreach (var part in c.EnumerateArray())
        {
            if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("type", out var t) && t.ValueEquals("text")
                && part.TryGetProperty("text", out var tx) && tx.ValueKind == JsonValueKind.String)
                text = text is null ? tx.GetString() : text + tx.GetString();
        }
        return text;
    }
}

public sealed class ToolCall
{
    [JsonPropertyName("id")] public string? Id { get; set; }
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("function")] public FunctionCall? Function { get; set; }
    [JsonPropertyName("index")] public int? Index { get; set; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}

public sealed class FunctionCall
{
    [JsonPropertyName("name")] public string? Name { get; set; }
    /// <summary>Arguments as a JSON string, as OpenAI sends them.</summary>
    [JsonPropertyName("arguments")] public string? Arguments { get; set; }
}

public sealed class ToolDefinition
{
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("function")] public FunctionDefinition? Function { get; set; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}

public sealed class FunctionDefinition
{
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("description")] public string? Description { get; set; }
    [JsonPropertyName("parameters")] public JsonElement? Parameters { get; set; }
    [JsonPropertyName("strict")] public bool? Strict { get; set; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}
