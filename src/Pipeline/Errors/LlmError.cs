namespace LLMux.Pipeline.Errors;

/// <summary>
/// An error in the LLMux taxonomy with everything a client needs to act on it.
/// Never carries a credential: messages are written by us or taken from upstream error bodies.
/// </summary>
public sealed record LlmError
{
    public required ErrorKind Kind { get; init; }
    public required string Message { get; init; }
    /// <summary>The request parameter at fault, when one is.</summary>
    public string? Param { get; init; }
    /// <summary>A machine-readable code (upstream <c>error.code</c> when it gave one, e.g. <c>context_length_exceeded</c>).</summary>
    public string? Code { get; init; }
    public string? Provider { get; init; }
    public int? UpstreamStatus { get; init; }
    public string? UpstreamRequestId { get; init; }
    /// <summary>Seconds the client should wait, from the upstream's Retry-After when present.</summary>
    public TimeSpan? RetryAfter { get; init; }
    /// <summary>Explicit HTTP status; when null the status follows from <see cref="Kind"/>.</summary>
    public int? StatusOverride { get; init; }

    public int HttpStatus => StatusOverride ?? ErrorStatus.For(Kind, UpstreamStatus);

    /// <summary>A <c>type</c> other than the kind's (LiteLLM's <c>budget_exceeded</c>, <c>expired_key</c>, ...).</summary>
    public string? TypeOverride { get; init; }

    /// <summary>OpenAI's <c>error.type</c> for this error.</summary>
    public string Type => TypeOverride ?? ErrorStatus.TypeFor(Kind);

    public LlmException ToException(Exception? inner = null) => new(this, inner);

    public static LlmError Invalid(string message, string? param = null, string? code = null) =>
        new() { Kind = ErrorKind.InvalidRequest, Message = message, Param = param, Code = code };
}
