namespace LLMux.Pipeline.Json;

/// <summary>
/// Top-level edits an OpenAI-compatible upstream needs beyond the model rewrite: fields renamed
/// (<c>max_completion_tokens</c> → <c>max_tokens</c>), string values replaced (<c>tool_choice: "required"</c> →
/// <c>"any"</c>), and fields added when the client left them out (Ollama's explicit <c>stream: false</c>).
/// Built once per provider; immutable.
/// </summary>
public sealed record JsonBodyEdits
{
    /// <summary>Field renames, old name → new name. A rename onto a field the client also sent keeps the client's.</summary>
    public IReadOnlyDictionary<string, string> Renames { get; init; } = new Dictionary<string, string>();
    /// <summary>String values replaced: (field, value as sent, value to send).</summary>
    public IReadOnlyList<(string Field, string From, string To)> ValueRewrites { get; init; } = [];
    /// <summary>Fields written when absent, with their raw JSON value.</summary>
    public IReadOnlyList<(string Field, string RawJson)> AddIfMissing { get; init; } = [];

    public bool IsEmpty => Renames.Count == 0 && ValueRewrites.Count == 0 && AddIfMissing.Count == 0;
}
