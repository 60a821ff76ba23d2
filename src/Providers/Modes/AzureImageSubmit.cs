using System.Globalization;
using System.Text.Json;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;
using LLMux.Pipeline.Wire;
using LLMux.Providers.Common;

namespace LLMux.Providers.Modes;

/// <summary>
/// Azure OpenAI's 2023 dall-e-2 previews (api-version 2023-06-01-preview … 2023-10-01-preview, LiteLLM's list): image
/// generation is an operation — <c>POST {api_base}/openai/images/generations:submit</c> (no <c>model</c>: the resource's
/// dall-e-2 answers), then <c>GET</c> the <c>operation-location</c> (waiting <c>retry-after</c> seconds, 10 if absent, on
/// the context's clock) until <c>succeeded</c> (its <c>result</c> is the answer) or <c>failed</c> (a 400 with Azure's
/// error); more than <c>AZURE_OPERATION_POLLING_TIMEOUT</c> seconds (120) is a 408.
/// </summary>
public static class AzureImageSubmit
{
    private static readonly string[] PreviewVersions = ["2023-06-01-preview", "2023-07-01-preview", "2023-08-01-preview", "2023-09-01-preview", "2023-10-01-preview"];

    private static readonly Lazy<HttpMessageInvoker> Polls = new(static () => new HttpMessageInvoker(UpstreamHandler.Create(), disposeHandler: true));

    private static readonly TimeSpan DefaultRetryAfter = TimeSpan.FromSeconds(10);

    /// <summary>True for an image generation (not an edit) at one of the 2023 preview api-versions.</summary>
    public static bool Applies(LlmContext context, string? apiVersion) =>
        context.Mode == LlmMode.Images && context.ModeRequest?.Parsed is ImageRequest && apiVersion is not null && Array.IndexOf(PreviewVersions, apiVersion) >= 0;

    /// <summary>True when <paramref name="response"/> answers a <c>:submit</c>.</summary>
    public static bool IsSubmit(HttpResponseMessage response) =>
        response.RequestMessage?.RequestUri?.AbsolutePath.EndsWith("/images/generations:submit", StringComparison.Ordinal) == true;

    public static HttpRequestMessage CreateRequest(LlmContext context, string apiBase, string apiVersion)
    {
        var root = new Uri(apiBase, UriKind.Absolute).GetLeftPart(UriPartial.Authority);
        var uri = new Uri(root + "/openai/images/generations:submit?api-version=" + Uri.EscapeDataString(apiVersion), UriKind.Absolute);
        var body = new PooledBuffer(context.Body.Length + 16);
        try
        {
            using var doc = JsonDocument.Parse(context.Body);
            using var w = new Utf8JsonWriter(body, JsonOut.Options);
            w.WriteStartObject();
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                // The preview takes no model: the resource's dall-e-2 deployment answers.
                if (p.Name == "model" || Array.IndexOf(GatewayRequestFields.Names, p.Name) >= 0 || p.Name == "metadata" || context.IsDropped(p.Name)) continue;
                p.WriteTo(w);
            }
            w.WriteEndObject();
            w.Flush();
        }
        catch
        {
            body.Dispose();
            throw;
        }
        return new HttpRequestMessage(HttpMethod.Post, uri) { Content = new PooledContent(body), Version = System.Net.HttpVersion.Version11 };
    }

    /// <summary>Polls the operation to its end and leaves its <c>result</c> (and the usage that prices it) in the context.</summary>
    public static async ValueTask ReadAsync(LlmContext context, HttpResponseMessage submitted, Action<HttpRequestMessage> authorize, string provider, CancellationToken cancellationToken)
    {
        var location = submitted.Headers.TryGetValues("operation-location", out var values) ? values.FirstOrDefault() : null;
        if (location is null || !Uri.TryCreate(location, UriKind.Absolute, out var operation))
        {
            using var body = await ResponseBodyReader.ReadAsync(submitted, provider, cancellationToken).ConfigureAwait(false);
            throw new LlmError { Kind = ErrorKind.BadGateway, Provider = provider, Message = $"{provider} accepted the image generation but sent no operation-location to poll: {System.Text.Encoding.UTF8.GetString(body.Span)}" }.ToException();
        }
        var time = context.TimeProvider;
        var deadline = time.GetUtcNow() + PollingTimeout();
        var wait = TimeSpan.Zero;
        while (true)
        {
            if (wait > TimeSpan.Zero)
            {
                if (time.GetUtcNow() + wait > deadline)
                    throw new LlmError { Kind = ErrorKind.Timeout, Provider = provider, Message = $"{provider} image generation was still running after {PollingTimeout().TotalSeconds:0} s of polling (AZURE_OPERATION_POLLING_TIMEOUT); try again" }.ToException();
                await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
            }
            using var poll = new HttpRequestMessage(HttpMethod.Get, operation) { Version = System.Net.HttpVersion.Version11 };
            authorize(poll);
            using var response = await Polls.Value.SendAsync(poll, cancellationToken).ConfigureAwait(false);
            var body = await ResponseBodyReader.ReadAsync(response, provider, cancellationToken).ConfigureAwait(false);
            using (body)
            {
                if (!response.IsSuccessStatusCode) throw OpenAI.OpenAIErrorMapper.Map(provider, (int)response.StatusCode, body.Span, response.Headers).ToException();
                using var doc = Parse(body.Span, provider);
                var root = doc.RootElement;
                if (!root.TryGetProperty("status", out var s) || s.ValueKind != JsonValueKind.String)
                    throw new LlmError { Kind = ErrorKind.BadGateway, Provider = provider, Message = $"{provider} operation answer has no `status`" }.ToException();
                var status = s.GetString();
                if (status == "succeeded")
                {
                    if (!root.TryGetProperty("result", out var result) || result.ValueKind != JsonValueKind.Object)
                        throw new LlmError { Kind = ErrorKind.BadGateway, Provider = provider, Message = $"{provider} operation succeeded without a `result`" }.ToException();
                    var answer = new PooledBuffer(result.GetRawText().Length + 16);
                    using (var w = new Utf8JsonWriter(answer, JsonOut.Options)) result.WriteTo(w);
                    context.ResponseBody = answer;
                    var request = context.ModeRequest?.Parsed as ImageRequest;
                    context.Usage = ImageAnswer.Read(answer.Span, request?.Size, request?.Quality, provider);
                    return;
                }
                if (status == "failed")
                {
                    var error = root.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object ? e : root;
                    var code = error.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
                    var message = error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : "image generation failed";
                    var filtered = code is "contentFilter" or "content_policy_violation";
                    throw new LlmError
                    {
                        Kind = filtered ? ErrorKind.ContentPolicy : ErrorKind.InvalidRequest,
                        Provider = provider,
                        Message = $"{provider} image generation failed: {message}",
                        Code = filtered ? "content_policy_violation" : code,
                        UpstreamStatus = 400,
                    }.ToException();
                }
                wait = RetryAfter(response) ?? DefaultRetryAfter;
            }
        }
    }

    private static TimeSpan PollingTimeout() =>
        int.TryParse(Environment.GetEnvironmentVariable("AZURE_OPERATION_POLLING_TIMEOUT"), NumberStyles.None, CultureInfo.InvariantCulture, out var s) && s > 0 ? TimeSpan.FromSeconds(s) : TimeSpan.FromSeconds(120);

    private static TimeSpan? RetryAfter(HttpResponseMessage response) =>
        response.Headers.TryGetValues("retry-after", out var v) && int.TryParse(v.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) ? TimeSpan.FromSeconds(seconds) : null;

    private static JsonDocument Parse(ReadOnlySpan<byte> body, string provider)
    {
        try
        {
            return JsonDocument.Parse(body.ToArray());
        }
        catch (JsonException ex)
        {
            throw new LlmError { Kind = ErrorKind.BadGateway, Provider = provider, Message = $"{provider} operation answer is not valid JSON ({ex.Message})" }.ToException(ex);
        }
    }
}
