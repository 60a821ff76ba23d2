using System.Net.Http.Headers;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Streaming;

namespace LLMux.Pipeline.Context;

/// <summary>
/// A provider answers the same small set of questions for every call: how to build the upstream request,
/// how to read its answer, how to translate its stream, and how to map its errors.
/// </summary>
public abstract class LlmProvider
{
    public abstract ProviderSpec Spec { get; }

    /// <summary>
    /// The provider that serves <paramref name="upstreamModel"/> under this config prefix. One prefix can front
    /// several wire formats (<c>bedrock/invoke/…</c> is InvokeModel, <c>vertex_ai/claude-…</c> is Claude's rawPredict);
    /// the choice is made once, when the deployment is built, so each deployment carries its own parameter table.
    /// </summary>
    public virtual LlmProvider ForModel(string upstreamModel) => this;

    /// <summary>The other wire formats behind this prefix (see <see cref="ForModel"/>), listed in the capability matrix.</summary>
    public virtual IReadOnlyList<LlmProvider> Variants => [];

    /// <summary>A transport of the provider's own (the in-process mock); null uses the shared HTTP invoker.</summary>
    public virtual HttpMessageInvoker? Transport => null;

    /// <summary>Builds the upstream request for the context's operation and deployment.</summary>
    public abstract HttpRequestMessage CreateRequest(LlmContext context);

    /// <summary>Reads a successful non-stream answer into <see cref="LlmContext.ResponseBody"/> (OpenAI wire bytes) and usage.</summary>
    public abstract ValueTask ReadResponseAsync(LlmContext context, HttpResponseMessage response, CancellationToken cancellationToken);

    /// <summary>A translator for one streamed answer.</summary>
    public abstract StreamTranslator CreateStreamTranslator(LlmContext context);

    /// <summary>Maps an upstream error answer into the taxonomy.</summary>
    public abstract LlmError MapError(LlmContext context, int status, ReadOnlySpan<byte> body, HttpResponseHeaders headers);
}
