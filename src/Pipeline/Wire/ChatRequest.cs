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
    [JsonPropertyName("stream_options")] public StreamOptions? StreamOptions { get => _rare?.StreamOptions; set { if (value is not null || _rare is not null) (_rare ??= new()).StreamOptions = value; } }
    [JsonPropertyName("temperature")] public double? Temperature { get; set; }
    [JsonPropertyName("top_p")] public double? TopP { get; set; }
    [JsonPropertyName("n")] public int? N { get => _rare?.N; set { if (value is not null || _rare is not null) (_rare ??= new()).N = value; } }
    [JsonPropertyName("max_tokens")] public int? MaxTokens { get; set; }
    [JsonPropertyName("max_completion_tokens")] public int? MaxCompletionTokens { get; set; }
    [JsonPropertyName("stop")] public JsonElement? Stop { get => _rare?.Stop; set { if (value is not null || _rare is not null) (_rare ??= new()).Stop = value; } }
    [JsonPropertyName("presence_penalty")] public double? PresencePenalty { get => _rare?.PresencePenalty; set { if (value is not null || _rare is not null) (_rare ??= new()).PresencePenalty = value; } }
    [JsonPropertyName("frequency_penalty")] public double? FrequencyPenalty { get => _rare?.FrequencyPenalty; set { if (value is not null || _rare is not null) (_rare ??= new()).FrequencyPenalty = value; } }
    [JsonPropertyName("logit_bias")] public JsonElement? LogitBias { get => _rare?.LogitBias; set { if (value is not null || _rare is not null) (_rare ??= new()).LogitBias = value; } }
    [JsonPropertyName("logprobs")] public bool? Logprobs { get => _rare?.Logprobs; set { if (value is not null || _rare is not null) (_rare ??= new()).Logprobs = value; } }
    [JsonPropertyName("top_logprobs")] public int? TopLogprobs { get => _rare?.TopLogprobs; set { if (value is not null || _rare is not null) (_rare ??= new()).TopLogprobs = value; } }
    [JsonPropertyName("seed")] public long? Seed { get => _rare?.Seed; set { if (value is not null || _rare is not null) (_rare ??= new()).Seed = value; } }
    [JsonPropertyName("user")] public string? User { get; set; }
    [JsonPropertyName("tools")] public List<ToolDefinition>? Tools { get; set; }
    [JsonPropertyName("tool_choice")] public JsonElement? ToolChoice { get => _rare?.ToolChoice; set { if (value is not null || _rare is not null) (_rare ??= new()).ToolChoice = value; } }
    [JsonPropertyName("parallel_tool_calls")] public bool? ParallelToolCalls { get => _rare?.ParallelToolCalls; set { if (value is not null || _rare is not null) (_rare ??= new()).ParallelToolCalls = value; } }
    [JsonPropertyName("response_format")] public JsonElement? ResponseFormat { get => _rare?.ResponseFormat; set { if (value is not null || _rare is not null) (_rare ??= new()).ResponseFormat = value; } }
    [JsonPropertyName("reasoning_effort")] public string? ReasoningEffort { get => _rare?.ReasoningEffort; set { if (value is not null || _rare is not null) (_rare ??= new()).ReasoningEffort = value; } }
    [JsonPropertyName("functions")] public JsonElement? Functions { get => _rare?.Functions; set { if (value is not null || _rare is not null) (_rare ??= new()).Functions = value; } }
    [JsonPropertyName("function_call")] public JsonElement? FunctionCall { get => _rare?.FunctionCall; set { if (value is not null || _rare is not null) (_rare ??= new()).FunctionCall = value; } }
    [JsonPropertyName("drop_params")] public bool? DropParams { get => _rare?.DropParams; set { if (value is not null || _rare is not null) (_rare ??= new()).DropParams = value; } }

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

    // Fields most requests leave out live in one object allocated only when one of them is set: the request object
    // a plain call allocates stays small (the public properties are unchanged).
    private RareFields? _rare;

    private sealed class RareFields
    {
        public int? N;
        public JsonElement? Stop;
        public double? PresencePenalty;
        public double? FrequencyPenalty;
        public JsonElement? LogitBias;
        public bool? Logprobs;
        public int? TopLogprobs;
        public long? Seed;
        public JsonElement? ToolChoice;
        public bool? ParallelToolCalls;
        public JsonElement? ResponseFormat;
        public string? ReasoningEffort;
        public JsonElement? Functions;
        public JsonElement? FunctionCall;
        public bool? DropParams;
        public StreamOptions? StreamOptions;
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
    /// <summary>
    /// A string, an array of content parts, or null (assistant turns with tool calls). Content sent as a JSON string is
    /// kept as that string and turned into a <see cref="JsonElement"/> only when this property is read, so a request that
    /// is forwarded as it is (validated through <see cref="ContentKind"/> and <see cref="TextContent"/>) allocates no
    /// document per message.
    /// </summary>
    [JsonIgnore]
    public JsonElement? Content
    {
        get
        {
            if (_contentText is { } text && _content is null) _content = ChatContentConverter.ToElement(text);
            return _content;
        }
        set { _content = value; _contentText = null; }
    }

    /// <summary>The JSON kind of <see cref="Content"/> without building it: <c>Undefined</c> when there is none.</summary>
    [JsonIgnore]
    public JsonValueKind ContentKind => _contentText is not null ? JsonValueKind.String : _content?.ValueKind ?? JsonValueKind.Undefined;

    /// <summary><c>content</c> as it is read and written: the string itself, or the element for any other value.</summary>
    [JsonInclude, JsonPropertyName("content"), JsonConverter(typeof(ChatContentConverter)), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    internal ChatContent WireContent
    {
        get => _contentText is { } text ? new ChatContent(text, null) : new ChatContent(null, _content);
        set { _contentText = value.Text; _content = value.Element; }
    }

    private string? _contentText;
    private JsonElement? _content;
    [JsonPropertyName("name")] public string? Name { get => _rare?.Name; set { if (value is not null || _rare is not null) (_rare ??= new()).Name = value; } }
    [JsonPropertyName("tool_calls")] public List<ToolCall>? ToolCalls { get; set; }
    [JsonPropertyName("tool_call_id")] public string? ToolCallId { get; set; }
    [JsonPropertyName("function_call")] public JsonElement? FunctionCall { get => _rare?.FunctionCall; set { if (value is not null || _rare is not null) (_rare ??= new()).FunctionCall = value; } }
    [JsonPropertyName("reasoning_content")] public string? ReasoningContent { get => _rare?.ReasoningContent; set { if (value is not null || _rare is not null) (_rare ??= new()).ReasoningContent = value; } }
    [JsonPropertyName("thinking_blocks")] public JsonElement? ThinkingBlocks { get => _rare?.ThinkingBlocks; set { if (value is not null || _rare is not null) (_rare ??= new()).ThinkingBlocks = value; } }
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }

    /// <summary>Content as plain text when it is a string, or the concatenated text parts.</summary>
    public string? TextContent()
    {
        if (_contentText is { } plain) return plain;
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

    // Fields most requests leave out live in one object allocated only when one of them is set: the request object
    // a plain call allocates stays small (the public properties are unchanged).
    private RareFields? _rare;

    private sealed class RareFields
    {
        public string? Name;
        public JsonElement? FunctionCall;
        public string? ReasoningContent;
        public JsonElement? ThinkingBlocks;
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
