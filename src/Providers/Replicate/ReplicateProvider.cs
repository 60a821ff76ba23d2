using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Streaming;
using LLMux.Providers.Common;

namespace LLMux.Providers.Replicate;

/// <summary>
/// <c>replicate/&lt;model&gt;</c>: creates a prediction with the prompt built from the messages; its own transport
/// (<see cref="ReplicateTransport"/>) waits for the prediction or opens its stream, and cancels it when the caller goes away.
/// </summary>
internal sealed class ReplicateProvider : LlmProvider, IDisposable
{
    private readonly SocketsHttpHandler _socket;
    private readonly HttpMessageInvoker _transport;

    public ReplicateProvider(TimeProvider? time = null)
    {
        _socket = UpstreamHandler.Create();
        _transport = new HttpMessageInvoker(new ReplicateTransport(_socket, time ?? TimeProvider.System), disposeHandler: true);
    }

    public override ProviderSpec Spec => ReplicateSpec.Spec;

    public override HttpMessageInvoker? Transport => _transport;

    public override HttpRequestMessage CreateRequest(LlmContext context)
    {
        var deployment = context.Deployment!;
        if (context.Mode != LlmMode.Chat)
            throw LlmError.Invalid($"{ReplicateSpec.Name} serves chat only; `{deployment.ModelName}` cannot answer {context.Mode}", "model").ToException();
        var key = deployment.ApiKey?.Reveal() ?? Environment.GetEnvironmentVariable("REPLICATE_API_KEY") ?? Environment.GetEnvironmentVariable("REPLICATE_API_TOKEN");
        if (string.IsNullOrEmpty(key))
        {
            throw new LlmError
            {
                Kind = ErrorKind.Auth,
                Message = $"{ReplicateSpec.Name}: no API token for model `{deployment.ModelName}`; set litellm_params.api_key (e.g. os.environ/REPLICATE_API_KEY) or the REPLICATE_API_KEY environment variable",
                Param = "api_key",
                Code = "missing_api_key",
                Provider = ReplicateSpec.Name,
            }.ToException();
        }
        var target = ReplicateModelRef.Parse(deployment.UpstreamModel);
        var body = new PooledBuffer(Math.Max(512, context.Body.Length + 256));
        try
        {
            using var w = new Utf8JsonWriter(body);
            JsonSerializer.Serialize(w, ReplicateRequestWriter.Build(context, target), ReplicateJson.Default.ReplicateCreatePrediction);
        }
        catch
        {
            body.Dispose();
            throw;
        }
        var apiBase = deployment.ApiBase ?? Environment.GetEnvironmentVariable("REPLICATE_API_BASE") ?? ReplicateSpec.DefaultApiBase;
        var request = new HttpRequestMessage(HttpMethod.Post, ProviderUrls.Join(apiBase, target.Path))
        {
            Content = new PooledContent(body),
            Version = System.Net.HttpVersion.Version11,
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        request.Options.Set(ReplicateTransport.Stream, context.IsStream);
        // Sync mode: Replicate holds the create call open (up to a minute) until the prediction is done.
        if (!context.IsStream) request.Headers.TryAddWithoutValidation("Prefer", "wait");
        if (deployment.Setting("replicate_poll_interval") is { } seconds && double.TryParse(seconds, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0)
            request.Options.Set(ReplicateTransport.PollInterval, TimeSpan.FromSeconds(s));
        return request;
    }

    public override async ValueTask ReadResponseAsync(LlmContext context, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        using var body = await ResponseBodyReader.ReadAsync(response, Spec.Name, cancellationToken).ConfigureAwait(false);
        ChatCompletionResponse.Write(context, ReplicateAnswers.Read(body.Span, context.Deployment!.UpstreamModel, context.TimeProvider.GetUtcNow().ToUnixTimeSeconds()));
    }

    public override StreamTranslator CreateStreamTranslator(LlmContext context) => new ReplicateStreamTranslator(context);

    public override LlmError MapError(LlmContext context, int status, ReadOnlySpan<byte> body, HttpResponseHeaders headers) =>
        ReplicateErrorMapper.Map(status, body, headers);

    public void Dispose()
    {
        _transport.Dispose();
        _socket.Dispose();
    }
}
