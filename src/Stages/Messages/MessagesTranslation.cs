using LLMux.Pipeline.Context;

namespace LLMux.Stages.Messages;

/// <summary>
/// A translated request: the OpenAI chat body (the caller disposes it); when tool names had to be shortened
/// for OpenAI's 64-character limit, the map from the name sent to the name the client used; and the
/// Anthropic-only hints left out because the target cannot use them (for <c>x-llmux-warnings</c>).
/// </summary>
public readonly record struct MessagesTranslation(PooledBuffer Body, IReadOnlyDictionary<string, string>? ToolNames, IReadOnlyList<string>? DroppedHints);
