using System.Collections.Concurrent;
using System.Net.Http.Headers;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;
using LLMux.Pipeline.Streaming;
using LLMux.Providers.Common;

namespace LLMux.Providers.Oci;

/// <summary>
/// <c>oci/&lt;model&gt;</c>: OCI Generative AI's chat action, a signed POST of <c>ChatDetails</c> to
/// <c>{api_base}/20231130/actions/chat</c>; answers are ChatResult JSON, streams SSE (<see cref="OciStreamTranslator"/>).
/// </summary>
internal sealed class OciProvider(TimeProvider? time = null, Func<string, string>? readFile = null) : LlmProvider, IDisposable
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Func<string, string> _readFile = readFile ?? File.ReadAllText;
    // One parsed key per distinct (keyId, key text or file) setting: parsing PEM per request would cost more than the call's signing.
    private readonly ConcurrentDictionary<string, OciCredentials> _keys = new(StringComparer.Ordinal);

    public override ProviderSpec Spec => OciSpec.Spec;

    public override HttpRequestMessage CreateRequest(LlmContext context)
    {
        var deployment = context.Deployment!;
        if (context.Mode != LlmMode.Chat)
            throw LlmError.Invalid($"{OciSpec.Name} serves chat only; `{deployment.ModelName}` cannot answer {context.Mode}", "model").ToException();
        var credentials = Credentials(deployment);
        var details = OciRequestWriter.Build(context);
        var body = new PooledBuffer(Math.Max(1024, context.Body.Length + 512));
        try
        {
            using (var w = new System.Text.Json.Utf8JsonWriter(body)) System.Text.Json.JsonSerializer.Serialize(w, details, OciJson.Default.OciChatDetails);
        }
        catch
        {
            body.Dispose();
            throw;
        }
        var root = deployment.ApiBase ?? $"https://inference.generativeai.{OciCredentials.Region(deployment)}.oci.oraclecloud.com";
        var request = new HttpRequestMessage(HttpMethod.Post, ProviderUrls.Join(root, "20231130/actions/chat"))
        {
            Content = new PooledContent(body),
            Version = System.Net.HttpVersion.Version11,
        };
        try
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(context.IsStream ? "text/event-stream" : "application/json"));
            OciRequestSigner.Sign(request, body.Memory.Span, credentials, _time.GetUtcNow());
            return request;
        }
        catch
        {
            request.Dispose();
            throw;
        }
    }

    private OciCredentials Credentials(Deployment deployment)
    {
        var cacheKey = string.Join('\n', deployment.Setting("oci_tenancy"), deployment.Setting("oci_user"), deployment.Setting("oci_fingerprint"),
            deployment.Setting("oci_key"), deployment.Setting("oci_key_file"));
        if (_keys.TryGetValue(cacheKey, out var cached)) return cached;
        var loaded = OciCredentials.Load(deployment, _readFile);
        if (_keys.TryAdd(cacheKey, loaded)) return loaded;
        loaded.Dispose();
        return _keys[cacheKey];
    }

    public override async ValueTask ReadResponseAsync(LlmContext context, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        using var body = await ResponseBodyReader.ReadAsync(response, Spec.Name, cancellationToken).ConfigureAwait(false);
        ChatCompletionResponse.Write(context, OciAnswers.Read(body.Span, context.Deployment!.UpstreamModel, context.TimeProvider.GetUtcNow().ToUnixTimeSeconds()));
    }

    public override StreamTranslator CreateStreamTranslator(LlmContext context) => new OciStreamTranslator(context);

    public override LlmError MapError(LlmContext context, int status, ReadOnlySpan<byte> body, HttpResponseHeaders headers) =>
        OciErrorMapper.Map(status, body, headers);

    public void Dispose()
    {
        foreach (var (_, key) in _keys) key.Dispose();
        _keys.Clear();
    }
}
