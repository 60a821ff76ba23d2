using LLMux.Pipeline.Context;

namespace LLMux.Stages.Messages;

/// <summary>
/// A translated request: the OpenAI chat body (the caller disposes it) and, when tool names had to be
/// shortened for OpenAI's 64-character limit, the map from the name sent to the name the client used.
/// </summary>
public readonly record struct MessagesTranslation(PooledBuffer Body, IReadOnlyDictionary<string, string>? ToolNames);
