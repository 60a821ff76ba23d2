using System.Collections.Frozen;
using System.Net.Http.Headers;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;
using LLMux.Providers.Common;
using LLMux.Providers.OpenAI;

namespace LLMux.Providers.Voyage;

/// <summary>
/// Voyage AI embeddings (and rerank, in the modes' Voyage dialect): the client's OpenAI body with <c>dimensions</c> renamed to <c>output_dimension</c>, posted to
/// <c>{api_base}/embeddings</c> with a Bearer key; the answer is rewritten into OpenAI's shape by <see cref="VoyageResponseReader"/>.
/// </summary>
internal sealed class VoyageProvider() : OpenAIProvider(VoyageSpec.Spec)
{
    private static readonly JsonBodyEdits Edits = new()
    {
        Renames = new Dictionary<string, string> { ["dimensions"] = "output_dimension" }.ToFrozenDictionary(StringComparer.Ordinal),
    };

    protected override JsonBodyEdits? BodyEdits => Edits;

    public override bool AcceptsResponsesPassthrough(Deployment deployment) => false;

    protected override Modes.RerankDialect RerankDialect => Modes.RerankDialect.Voyage;

    public override async ValueTask ReadResponseAsync(LlmContext context, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (context.Mode == LlmMode.Rerank)
        {
            await base.ReadResponseAsync(context, response, cancellationToken).ConfigureAwait(false);
            return;
        }
        using var body = await ResponseBodyReader.ReadAsync(response, Spec.Name, cancellationToken).ConfigureAwait(false);
        ChatCompletionResponse.Write(context, VoyageResponseReader.Read(body.Span, context.Deployment!.UpstreamModel));
    }

    public override LlmError MapError(LlmContext context, int status, ReadOnlySpan<byte> body, HttpResponseHeaders headers) =>
        VoyageErrorMapper.Map(status, body, headers);
}
