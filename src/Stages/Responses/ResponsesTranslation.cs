using LLMux.Pipeline.Context;

namespace LLMux.Stages.Responses;

/// <summary>
/// A bridged request: the chat-completions body (the caller disposes it), how the tools were offered
/// (so that calls come back as <c>custom_tool_call</c> items or with their <c>namespace</c>), the turn's input items with ids (for the store and
/// <c>input_items</c>), and what was left out with a warning.
/// </summary>
public sealed record ResponsesTranslation(PooledBuffer Body, BridgeTools Tools, byte[] InputItems, IReadOnlyList<string>? Warnings);
