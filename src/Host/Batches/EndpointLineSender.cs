using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using LLMux.Host.Admin;
using LLMux.Host.Batch;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using Microsoft.AspNetCore.Http.Features;

namespace LLMux.Host.Batches;

/// <summary>
/// Answers a batch line exactly as <c>POST {url}</c> would: the line's body goes, in process, to the gateway's own
/// endpoint for <c>/v1/responses</c> or <c>/v1/completions</c> (so the Responses and text-completion bridges, their
/// parameter checks and their errors are the interactive ones), made as the key that created the batch. A line the
/// endpoint refuses gets the endpoint's own status and error body.
/// </summary>
internal sealed class EndpointLineSender(IServiceProvider services)
{
    private readonly ConcurrentDictionary<string, RequestDelegate?> _handlers = new(StringComparer.Ordinal);

    public async Task<BatchResult> SendAsync(BatchRequestLine line, Caller? caller, CancellationToken cancellationToken)
    {
        var path = BatchRunner.EndpointOf(line.Mode);
        if (Flag(line.Body.Span, "stream"u8))
            return new BatchResult(line, null, LlmError.Invalid("`stream: true` is not supported in a batch; remove it", "stream"), 0, null);
        if (line.Mode == LLMux.Pipeline.Capabilities.LlmMode.Responses && Flag(line.Body.Span, "background"u8))
            return new BatchResult(line, null, LlmError.Invalid("`background: true` is not supported in a batch: the batch itself runs in the background; remove it", "background"), 0, null);
        var handler = _handlers.GetOrAdd(path, Find)
            ?? throw new InvalidOperationException($"the gateway has no {path} endpoint to run this batch's lines");
        var http = new DefaultHttpContext { RequestServices = services };
        http.Features.Set(new RequestAuthenticator.Outcome(caller ?? Caller.Anonymous, null));
        http.Request.Method = "POST";
        http.Request.Scheme = "http";
        http.Request.Path = path;
        http.Request.ContentType = "application/json";
        http.Request.ContentLength = line.Body.Length;
        http.Request.Body = new MemoryStream(line.Body.ToArray(), writable: false);
        using var output = new MemoryStream();
        http.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(output));
        http.RequestAborted = cancellationToken;
        await handler(http).ConfigureAwait(false);
        await http.Response.BodyWriter.FlushAsync(cancellationToken).ConfigureAwait(false);
        var status = http.Response.StatusCode;
        var bytes = output.ToArray();
        if (status == 200)
        {
            decimal? cost = http.Response.Headers["x-llmux-response-cost"].ToString() is { Length: > 0 } c
                && decimal.TryParse(c, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;
            return new BatchResult(line, bytes, null, Tokens(bytes), cost);
        }
        return new BatchResult(line, null, ErrorOf(status, bytes), 0, null);
    }

    private RequestDelegate? Find(string path)
    {
        foreach (var source in services.GetServices<EndpointDataSource>())
            foreach (var e in source.Endpoints)
                if (e is RouteEndpoint r && string.Equals(r.RoutePattern.RawText, path, StringComparison.Ordinal)) return r.RequestDelegate;
        return null;
    }

    private static bool Flag(ReadOnlySpan<byte> body, ReadOnlySpan<byte> name)
    {
        var reader = new Utf8JsonReader(body);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var match = reader.ValueTextEquals(name);
            reader.Read();
            if (match) return reader.TokenType == JsonTokenType.True;
            reader.Skip();
        }
        return false;
    }

    /// <summary>Total tokens of the answer (<c>usage.total_tokens</c>; Responses: input + output).</summary>
    private static long Tokens(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (!doc.RootElement.TryGetProperty("usage", out var u) || u.ValueKind != JsonValueKind.Object) return 0;
            if (u.TryGetProperty("total_tokens", out var t) && t.TryGetInt64(out var total)) return total;
            long n = 0;
            if (u.TryGetProperty("input_tokens", out var i) && i.TryGetInt64(out var a)) n += a;
            if (u.TryGetProperty("output_tokens", out var o) && o.TryGetInt64(out var b)) n += b;
            return n;
        }
        catch (JsonException)
        {
            return 0;
        }
    }

    /// <summary>The endpoint's OpenAI error body as an error with the same status, type, code and param.</summary>
    private static LlmError ErrorOf(int status, byte[] body)
    {
        string message = $"the endpoint answered {status}", type = "", code = "", param = "";
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object)
            {
                message = e.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : message;
                type = e.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";
                code = e.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : "";
                param = e.TryGetProperty("param", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString()! : "";
            }
        }
        catch (JsonException)
        {
        }
        return new LlmError
        {
            Kind = status switch { 400 => ErrorKind.InvalidRequest, 401 => ErrorKind.Auth, 403 => ErrorKind.Permission, 404 => ErrorKind.NotFound, 429 => ErrorKind.RateLimit, < 500 => ErrorKind.Other, _ => ErrorKind.ServerError },
            Message = message,
            Code = code.Length > 0 ? code : null,
            TypeOverride = type.Length > 0 ? type : null,
            Param = param.Length > 0 ? param : null,
            StatusOverride = status,
        };
    }
}
