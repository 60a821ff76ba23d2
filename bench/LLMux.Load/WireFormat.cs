namespace LLMux.Load;

/// <summary>A provider wire format the load harness can emulate upstream and speak as a client.</summary>
internal enum WireFormat
{
    OpenAI,
    Anthropic,
    Gemini,
    Bedrock,
    /// <summary>OpenAI's Responses API (<c>/v1/responses</c>).</summary>
    Responses,
}

internal static class WireFormats
{
    public static WireFormat Parse(string value) => value.ToLowerInvariant() switch
    {
        "openai" => WireFormat.OpenAI,
        "anthropic" => WireFormat.Anthropic,
        "gemini" => WireFormat.Gemini,
        "bedrock" => WireFormat.Bedrock,
        "responses" => WireFormat.Responses,
        _ => throw new ArgumentException($"unknown format '{value}' (openai|anthropic|gemini|bedrock|responses)"),
    };
}
