using LLMux.Pipeline.Context;

namespace LLMux.Stages.Responses;

/// <summary>
/// A bridged request: the chat-completions body (the caller disposes it), the names of <c>custom</c> tools
/// (their calls go back as <c>custom_tool_call</c> items), the turn's input items with ids (for the store and
/// <c>input_items</c>), and what was left out with a warning.
/// </summary>
public sealed record ResponsesTranslation(PooledBuffer Body, IReadOnlySet<string>? CustomTools, byte[] InputItems, IReadOnlyList<string>? Warnings);
