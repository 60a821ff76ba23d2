using System.Net.Http.Headers;
using System.Text.Json;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Streaming;
using LLMux.Providers.Common;

namespace LLMux.Providers.Anthropic;

/// <summary>Anthropic's Messages API behind the OpenAI chat-completions surface.</summary>
internal sealed class AnthropicProvider : LlmProvider, IAnthropicMessagesUpstream, ITokenCountingProvider
{
    private const string MessagesPath = "/v1/messages";

    public override ProviderSpec Spec => AnthropicSpec.Spec;

    private string KeyFor(Deployment deployment)
    {
        var key = deployment.ApiKey?.Reveal() ?? Environment.GetEnvironmentVariable(AnthropicSpec.Spec.ApiKeyEnv!);
        if (string.IsNullOrEmpty(key))
        {
            throw new LlmError
            {
                Kind = ErrorKind.Auth,
                Message = $"no Anthropic API key for model `{deployment.ModelName}`: set litellm_params.api_key or the ANTHROPIC_API_KEY environment variable",
                Provider = Spec.Name,
            }.ToException();
        }
        return key;
    }

    public bool CountsFromChatRequest(Deployment deployment) => false;

    /// <summary><c>POST {api_base}/v1/messages/count_tokens</c> with the client's body, <c>model</c> rewritten, and its anthropic-* headers.</summary>
    public HttpRequestMessage? CreateCountTokensRequest(LlmContext context)
    {
        var deployment = context.Deployment!;
        var key = KeyFor(deployment);
        var body = new PooledBuffer(Math.Max(256, context.Body.Length + 128));
        try
        {
            Pipeline.Json.JsonBodyRewriter.Rewrite(context.Body.Span, body, deployment.UpstreamModel, null, forceIncludeUsage: false);
        }
        catch
        {
            body.Dispose();
            throw;
        }
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(MessagesUri(deployment) + "/count_tokens")) { Content = new PooledContent(body), Version = System.Net.HttpVersion.Version11 };
        var version = AnthropicSpec.ApiVersion;
        var betas = new List<string>(1);
        if (key.StartsWith("sk-ant-oat", StringComparison.Ordinal))
        {
            request.Headers.TryAddWithoutValidation("authorization", "Bearer " + key);
            betas.Add("oauth-2025-04-20");
        }
        else request.Headers.TryAddWithoutValidation("x-api-key", key);
        foreach (var (name, value) in context.ForwardHeaders)
        {
            if (name == "anthropic-version") version = value;
            else if (name == "anthropic-beta") betas.Add(value);
        }
        request.Headers.TryAddWithoutValidation("anthropic-version", version);
        if (betas.Count > 0) request.Headers.TryAddWithoutValidation("anthropic-beta", string.Join(',', betas));
        return request;
    }

    public long ReadTokenCount(ReadOnlySpan<byte> body) => TokenCountAnswer.Read(body, "input_tokens"u8, Spec.Name);

    public override HttpRequestMessage CreateRequest(LlmContext context)
    {
        var deployment = context.Deployment!;
        var key = KeyFor(deployment);

        var betas = new List<string>(2);
        var body = new PooledBuffer(Math.Max(1024, context.Body.Length + 512));
        try
        {
            if (context.MessagesPassthrough) Pipeline.Json.JsonBodyRewriter.Rewrite(context.Body.Span, body, deployment.UpstreamModel, null, forceIncludeUsage: false);
            else AnthropicRequestWriter.Write(context, body, betas);
        }
        catch
        {
            body.Dispose();
            throw;
        }
        var request = new HttpRequestMessage(HttpMethod.Post, MessagesUri(deployment))
        {
            Content = new PooledContent(body),
            Version = System.Net.HttpVersion.Version11,
        };
        var headers = request.Headers;
        if (key.StartsWith("sk-ant-oat", StringComparison.Ordinal))
        {
            // Claude OAuth tokens go as a bearer token with their own beta (LiteLLM's common_utils).
            headers.TryAddWithoutValidation("authorization", "Bearer " + key);
            headers.TryAddWithoutValidation("anthropic-dangerous-direct-browser-access", "true");
            betas.Add("oauth-2025-04-20");
        }
        else
        {
            headers.TryAddWithoutValidation("x-api-key", key);
        }
        headers.Accept.Add(new MediaTypeWithQualityHeaderValue(context.IsStream ? "text/event-stream" : "application/json"));
        var version = AnthropicSpec.ApiVersion;
        ApplyExtraHeaders(context, headers, betas, ref version);
        foreach (var (name, value) in context.ForwardHeaders)
        {
            if (name == "anthropic-version") version = value;
            else if (name == "anthropic-beta")
            {
                foreach (var b in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                    if (!betas.Contains(b)) betas.Add(b);
            }
        }
        headers.TryAddWithoutValidation("anthropic-version", version);
        if (betas.Count > 0) headers.TryAddWithoutValidation("anthropic-beta", string.Join(',', betas));
        return request;
    }

    /// <summary><c>api_base</c> as LiteLLM reads it: the host root gets <c>/v1/messages</c>; a value ending in it is used as is.</summary>
    internal static Uri MessagesUri(Deployment deployment)
    {
        var apiBase = deployment.ApiBase ?? Environment.GetEnvironmentVariable(AnthropicSpec.Spec.ApiBaseEnv!) ?? AnthropicSpec.DefaultApiBase;
        var trimmed = apiBase.TrimEnd('/');
        if (trimmed.EndsWith(MessagesPath, StringComparison.Ordinal)) return new Uri(trimmed, UriKind.Absolute);
        return ProviderUrls.Join(trimmed, MessagesPath);
    }

    /// <summary>Caller <c>extra_headers</c> reach Anthropic; their <c>anthropic-beta</c> values join ours.</summary>
    private static void ApplyExtraHeaders(LlmContext context, HttpRequestHeaders headers, List<string> betas, ref string version)
    {
        if (context.IsDropped("extra_headers") || context.Chat?.Extra is not { } extra || !extra.TryGetValue("extra_headers", out var eh) || eh.ValueKind != JsonValueKind.Object) return;
        foreach (var h in eh.EnumerateObject())
        {
            if (h.Value.ValueKind != JsonValueKind.String) continue;
            var value = h.Value.GetString()!;
            if (h.NameEquals("anthropic-beta"))
            {
                foreach (var b in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                    if (!betas.Contains(b)) betas.Insert(0, b);
            }
            else if (h.NameEquals("anthropic-version")) version = value;
            else if (h.Name.Equals("x-api-key", StringComparison.OrdinalIgnoreCase) || h.Name.Equals("authorization", StringComparison.OrdinalIgnoreCase)) continue;
            else headers.TryAddWithoutValidation(h.Name, value);
        }
    }

    /// <summary>Every Anthropic deployment takes a Messages body as it is.</summary>
    public bool AcceptsMessagesPassthrough(Deployment deployment) => true;

    public override async ValueTask ReadResponseAsync(LlmContext context, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (context.MessagesPassthrough)
        {
            var raw = await ResponseBodyReader.ReadAsync(response, Spec.Name, cancellationToken).ConfigureAwait(false);
            try
            {
                using var doc = JsonDocument.Parse(raw.Memory);
                if (doc.RootElement.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object) context.Usage = AnthropicResponseReader.ReadUsage(u);
            }
            catch (JsonException ex)
            {
                raw.Dispose();
                throw new LlmError { Kind = ErrorKind.BadGateway, Provider = Spec.Name, Message = $"anthropic answered with a body that is not valid JSON ({ex.Message})" }.ToException(ex);
            }
            context.ResponseBody = raw;
            return;
        }
        using var body = await ResponseBodyReader.ReadAsync(response, Spec.Name, cancellationToken).ConfigureAwait(false);
        var created = context.TimeProvider.GetUtcNow().ToUnixTimeSeconds();
        var completion = AnthropicResponseReader.Read(body.Memory, created, JsonToolFor(context));
        ChatCompletionResponse.Write(context, completion);
    }

    public override StreamTranslator CreateStreamTranslator(LlmContext context) =>
        context.MessagesPassthrough ? new AnthropicMessagesPassthrough(context) : new AnthropicStreamTranslator(context, JsonToolFor(context));

    public override LlmError MapError(LlmContext context, int status, ReadOnlySpan<byte> body, HttpResponseHeaders headers) =>
        AnthropicErrorMapper.Map(status, body, headers);

    private static bool JsonToolFor(LlmContext context) =>
        context.Chat is { } chat && !context.IsDropped("response_format") && AnthropicRequestWriter.UsesJsonTool(chat, context.Deployment!.UpstreamModel);
}
