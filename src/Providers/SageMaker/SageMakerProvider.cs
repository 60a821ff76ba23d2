using System.Net.Http.Headers;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Streaming;
using LLMux.Providers.Bedrock;
using LLMux.Providers.Common;
using LLMux.Providers.OpenAI;

namespace LLMux.Providers.SageMaker;

/// <summary>
/// <c>sagemaker_chat/&lt;endpoint&gt;</c>: the OpenAI body (written by the OpenAI passthrough with <c>model</c> set to the
/// endpoint name) posted to SageMaker Runtime's <c>/endpoints/{endpoint}/invocations</c>, or
/// <c>/invocations-response-stream</c> for a stream, SigV4-signed for service <c>sagemaker</c>. Answers are the
/// container's OpenAI JSON; streams are eventstream (<see cref="SageMakerStreamTranslator"/>).
/// </summary>
internal sealed class SageMakerProvider : OpenAIProvider
{
    private const string Service = "sagemaker";

    private readonly TimeProvider _time;
    private readonly Func<string, string?> _env;

    public SageMakerProvider(TimeProvider? time = null, Func<string, string?>? environment = null) : base(SageMakerSpec.Spec)
    {
        _time = time ?? TimeProvider.System;
        _env = environment ?? Environment.GetEnvironmentVariable;
    }

    // The container's own usage is read from its chunks; SageMaker gets no stream_options from LLMux.
    protected override bool SupportsStreamUsage => false;

    public override bool AcceptsResponsesPassthrough(Deployment deployment) => false;

    public override HttpRequestMessage CreateRequest(LlmContext context)
    {
        if (context.Mode != LlmMode.Chat)
            throw LlmError.Invalid($"{SageMakerSpec.Name} serves chat only; `{context.Deployment!.ModelName}` cannot answer {context.Mode}", "model").ToException();
        var deployment = context.Deployment!;
        var (keys, region) = SageMakerCredentials.Resolve(deployment, _env);
        var request = base.CreateRequest(context);
        try
        {
            var uri = Endpoint(deployment, region, context.IsStream);
            request.RequestUri = uri;
            request.Headers.Accept.Clear();
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(context.IsStream ? "application/vnd.amazon.eventstream" : "application/json"));
            request.Content!.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            AwsJsonRequestSigner.Sign(request, uri, ((PooledContent)request.Content).Memory.Span, keys, region, Service, _time.GetUtcNow());
            return request;
        }
        catch
        {
            request.Dispose();
            throw;
        }
    }

    /// <summary>Signing happens in <see cref="CreateRequest"/>; no bearer key is ever sent.</summary>
    protected override void ApplyAuth(HttpRequestMessage request, Deployment deployment) { }

    /// <summary>The base passthrough needs some base; the real URL is set by <see cref="Endpoint"/>.</summary>
    protected override string ResolveApiBase(Deployment deployment) => "http://sagemaker.invalid/";

    /// <summary><c>{api_base or https://runtime.sagemaker.{region}.amazonaws.com}/endpoints/{endpoint}/invocations[-response-stream]</c>.</summary>
    internal Uri Endpoint(Deployment deployment, string region, bool stream)
    {
        var root = deployment.ApiBase ?? deployment.Setting("sagemaker_base_url") ?? _env("AWS_SAGEMAKER_RUNTIME_ENDPOINT")
            ?? $"https://runtime.sagemaker.{region}.amazonaws.com";
        var path = string.Concat("endpoints/", Uri.EscapeDataString(deployment.UpstreamModel), stream ? "/invocations-response-stream" : "/invocations");
        return ProviderUrls.Join(root, path);
    }

    public override StreamTranslator CreateStreamTranslator(LlmContext context) => new SageMakerStreamTranslator(context);

    public override LlmError MapError(LlmContext context, int status, ReadOnlySpan<byte> body, HttpResponseHeaders headers) =>
        SageMakerErrorMapper.FromHttp(status, body, headers);
}
