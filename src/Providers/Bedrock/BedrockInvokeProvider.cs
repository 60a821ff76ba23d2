using System.Net.Http.Headers;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Streaming;
using LLMux.Providers.Common;

namespace LLMux.Providers.Bedrock;

/// <summary>
/// The <c>bedrock/invoke/</c> deployments (<see cref="BedrockInvokeSpec"/>): Claude through InvokeModel, signed and
/// addressed like every Bedrock call (<see cref="BedrockProvider"/> does both), Anthropic bodies and answers inside.
/// </summary>
internal sealed class BedrockInvokeProvider(BedrockProvider bedrock) : LlmProvider, IAnthropicMessagesUpstream, ITokenCountingProvider
{
    public bool CountsFromChatRequest(Deployment deployment) => false;

    public HttpRequestMessage? CreateCountTokensRequest(LlmContext context) => bedrock.CreateCountTokensRequest(context);

    public long ReadTokenCount(ReadOnlySpan<byte> body) => bedrock.ReadTokenCount(body);

    public override ProviderSpec Spec => BedrockInvokeSpec.Spec;

    public bool AcceptsMessagesPassthrough(Deployment deployment) => true;

    public override HttpRequestMessage CreateRequest(LlmContext context) => bedrock.CreateInvokeRequest(context);

    public override ValueTask ReadResponseAsync(LlmContext context, HttpResponseMessage response, CancellationToken cancellationToken) =>
        BedrockInvoke.ReadResponseAsync(context, response, BedrockSpec.Spec.Name, cancellationToken);

    public override StreamTranslator CreateStreamTranslator(LlmContext context) => BedrockInvoke.CreateStreamTranslator(context);

    public override LlmError MapError(LlmContext context, int status, ReadOnlySpan<byte> body, HttpResponseHeaders headers) =>
        BedrockErrorMapper.FromHttp(status, body, headers);
}
