using System.Collections.Frozen;

namespace LLMux.Pipeline.Wire;

/// <summary>Request fields that configure the gateway itself (LiteLLM's and the mock's): never checked against a provider, never sent upstream.</summary>
public static class GatewayRequestFields
{
    public static readonly string[] Names =
    [
        "drop_params", "additional_drop_params", "allowed_openai_params", "timeout", "stream_timeout",
        "mock_response", "mock_chunks", "mock_chunk_delay_ms", "mock_error_status", "mock_error_after_chunks", "mock_tool_call",
        "cache",
    ];

    public static readonly FrozenSet<string> Set = Names.ToFrozenSet(StringComparer.Ordinal);
}
