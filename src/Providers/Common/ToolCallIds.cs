namespace LLMux.Providers.Common;

/// <summary>Synthesised tool-call ids for providers that give none (Gemini), in OpenAI's <c>call_</c> shape.</summary>
public static class ToolCallIds
{
    public static string New() => "call_" + Guid.NewGuid().ToString("N")[..24];
}
