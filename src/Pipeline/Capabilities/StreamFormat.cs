namespace LLMux.Pipeline.Capabilities;

/// <summary>How a provider frames its streamed answers.</summary>
public enum StreamFormat
{
    Sse,
    JsonArray,
    EventStream,
    /// <summary>Newline-delimited JSON (Ollama's native API).</summary>
    Ndjson,
}

/// <summary>How a provider expects its credentials.</summary>
public enum AuthScheme
{
    None,
    Bearer,
    XApiKey,
    ApiKeyHeader,
    GoogApiKey,
    SigV4,
    GoogleServiceAccount,
    /// <summary>OCI request signing (draft-cavage HTTP signature, rsa-sha256).</summary>
    OciSignature,
}
