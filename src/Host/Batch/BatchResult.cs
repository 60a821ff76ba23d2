using LLMux.Pipeline.Errors;

namespace LLMux.Host.Batch;

/// <summary>What one request came to: an OpenAI answer body, or an error; <see cref="Cancelled"/> results are not written (a resume redoes them).</summary>
internal sealed record BatchResult(BatchRequestLine Line, byte[]? Body, LlmError? Error, long Tokens, decimal? Cost, bool Cancelled = false)
{
    public bool Succeeded => Body is not null;
}
