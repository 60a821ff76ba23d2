using LLMux.Pipeline.Capabilities;
using LLMux.Providers.OpenAICompatible;

namespace LLMux.Providers.SageMaker;

/// <summary>
/// Amazon SageMaker endpoints that serve the OpenAI Messages API (TGI, LMI/vLLM and other containers): LiteLLM's
/// <c>sagemaker_chat/&lt;endpoint&gt;</c>. The body is OpenAI's; the wire is SageMaker Runtime's InvokeEndpoint and
/// InvokeEndpointWithResponseStream, SigV4-signed for service <c>sagemaker</c>.
/// </summary>
internal static class SageMakerSpec
{
    public const string Name = "sagemaker_chat";

    public static ProviderSpec Spec { get; } = new CompatibleProviderRow
    {
        Name = Name,
        DisplayName = "Amazon SageMaker (Messages API endpoints)",
        DefaultApiBase = "https://runtime.sagemaker.{region}.amazonaws.com",
        ApiBaseEnv = "AWS_SAGEMAKER_RUNTIME_ENDPOINT",
        // LiteLLM's sagemaker_chat takes OpenAI's list; stream_options is not sent (the usage chunk is the container's own).
        RemovedParams = ["stream_options", "max_retries", "extra_headers"],
        Notes =
        [
            "`sagemaker_chat/<endpoint name>`: `POST {api_base}/endpoints/{endpoint}/invocations` (streams: `/invocations-response-stream`); api_base defaults to `https://runtime.sagemaker.{aws_region_name}.amazonaws.com`",
            "SigV4 (service `sagemaker`) with litellm_params.aws_access_key_id / aws_secret_access_key / aws_session_token, else the AWS_* environment; region from aws_region_name, AWS_REGION_NAME, AWS_REGION, else us-west-2",
            "streams are AWS eventstream `PayloadPart` events whose bytes carry the container's SSE (`data: {chat.completion.chunk}`), split anywhere; LLMux re-frames them as OpenAI SSE",
            "the body is the client's OpenAI body (with `model` set to the endpoint name); `stream: true` stays in it, as AWS documents for streaming containers",
        ],
    }.ToSpec() with
    {
        Auth = AuthScheme.SigV4,
        StreamFormat = StreamFormat.EventStream,
    };
}
