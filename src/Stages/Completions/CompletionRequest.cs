using System.Text.Json;

namespace LLMux.Stages.Completions;

/// <summary>A validated <c>/v1/completions</c> request; <see cref="Root"/> belongs to the document the caller disposes.</summary>
public sealed class CompletionRequest
{
    public required JsonDocument Document { get; init; }
    public JsonElement Root => Document.RootElement;
    public required string Model { get; init; }
    /// <summary>The prompts: one per string, or one per token array (a flat token array is one prompt).</summary>
    public required IReadOnlyList<JsonElement> Prompts { get; init; }
    /// <summary>True when a prompt is a token array (only native text-completion APIs take those).</summary>
    public bool TokenPrompts { get; init; }
    public bool Stream { get; init; }
    public bool IncludeUsage { get; init; }
    public int N { get; init; } = 1;
    /// <summary>The optional parameters the client set (not model or prompt, not gateway fields).</summary>
    public required IReadOnlyList<string> Params { get; init; }
    public bool? DropParams { get; init; }
    public IReadOnlyList<string> AdditionalDropParams { get; init; } = [];
    public IReadOnlyList<string> AllowedOpenAIParams { get; init; } = [];
    public TimeSpan? Timeout { get; init; }

    public bool Has(string param)
    {
        foreach (var p in Params) if (p == param) return true;
        return false;
    }
}
