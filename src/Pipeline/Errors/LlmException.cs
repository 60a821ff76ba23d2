namespace LLMux.Pipeline.Errors;

/// <summary>Carries an <see cref="LlmError"/> through the stages to the endpoint that writes it.</summary>
public sealed class LlmException(LlmError error, Exception? inner = null) : Exception(error.Message, inner)
{
    public LlmError Error { get; } = error;
}
