namespace LLMux.Load;

/// <summary>A provider wire format the load harness can emulate upstream and speak as a client.</summary>
internal enum WireFormat
{
    OpenAI,
    Anthropic,
    Gemini,
    Bedrock,
}

internal static class WireFormats
{
    public static WireFormat Parse(string value) => value.ToLowerInvariant() switch
    {
        "openai" => WireFormat.OpenAI,
        "anthropic" => WireFormat.Anthropic,
        "gemini" => WireFormat.Gemini,
        "bedrock" => WireFormat.Bedrock,
        _ => throw new ArgumentException($"unknown format '{value}' (openai|anthropic|gemini|bedrock)"),
    };
}
