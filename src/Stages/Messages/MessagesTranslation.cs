using LLMux.Pipeline.Context;

namespace LLMux.Stages.Messages;

/// <summary>
/// A translated request: the OpenAI chat body (the caller disposes it); when tool names had to be shortened
/// for OpenAI's 64-character limit, the map from the name sent to the name the client used; the Anthropic-only
/// hints left out because the target cannot use them and other adjustments (both for <c>x-llmux-warnings</c>);
/// and the chat parameters derived from hints (<c>reasoning_effort</c> from <c>thinking</c>...), which the
/// capability check drops with a warning instead of refusing when the provider lacks them.
/// </summary>
public readonly record struct MessagesTranslation(
    PooledBuffer Body,
    IReadOnlyDictionary<string, string>? ToolNames,
    IReadOnlyList<string>? DroppedHints,
    IReadOnlyList<string>? Warnings = null,
    IReadOnlyList<string>? HintParams = null);
