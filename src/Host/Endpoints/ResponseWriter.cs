using System.Buffers;
using System.Globalization;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Streaming;
using Microsoft.AspNetCore.Http.Features;

namespace LLMux.Host.Endpoints;

/// <summary>Writes answers, streams and errors to the client, with LLMux's response headers.</summary>
internal static class ResponseWriter
{
    public static void WriteCommonHeaders(HttpContext http, LlmContext context)
    {
        var h = http.Response.Headers;
        h["x-llmux-overhead-us"] = context.OverheadMicroseconds().ToString(CultureInfo.InvariantCulture);
        if (context.Deployment is { } d)
        {
            h["x-llmux-provider"] = d.ProviderName;
            h["x-llmux-model-id"] = d.Id;
        }
        if (context.Attempts > 0) h["x-llmux-attempts"] = context.Attempts.ToString(CultureInfo.InvariantCulture);
        if (context.DroppedParams.Count > 0 || context.Warnings.Count > 0) h["x-llmux-warnings"] = Warnings(context);
        // Each name comes once (one per descriptor and field): a set is one dictionary lookup where Append is two.
        foreach (var (name, value) in context.ResponseHeaders) h[name] = value;
    }

    /// <summary>One header value: the dropped parameters, then each adapter warning, separated by "; ".</summary>
    private static string Warnings(LlmContext context)
    {
        var dropped = context.DroppedParams.Count > 0 ? "dropped unsupported params: " + string.Join(", ", context.DroppedParams) : null;
        if (context.Warnings.Count == 0) return dropped!;
        var rest = string.Join("; ", context.Warnings);
        return dropped is null ? rest : dropped + "; " + rest;
    }

    public static async Task WriteJsonAsync(HttpContext http, LlmContext context, ReadOnlyMemory<byte> body)
    {
        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json";
        if (context.Cost is { } cost) response.Headers["x-llmux-response-cost"] = cost.ToString("0.############", CultureInfo.InvariantCulture);
        WriteCommonHeaders(http, context);
        response.ContentLength = body.Length;
        await response.BodyWriter.WriteAsync(body, http.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>405 with the <c>Allow</c> header and OpenAI's error JSON: "GET is not allowed on /v1/x; use POST".</summary>
    public static Task WriteMethodNotAllowedAsync(HttpContext http, string allowed, LlmContext? context = null)
    {
        http.Response.Headers.Allow = allowed;
        return WriteErrorAsync(http, context, new LlmError
        {
            Kind = ErrorKind.MethodNotAllowed,
            Message = $"{http.Request.Method} is not allowed on {http.Request.Path}; use {allowed}",
            Code = "method_not_allowed",
        });
    }

    public static Task WriteErrorAsync(HttpContext http, LlmContext? context, LlmError error) =>
        WriteErrorAsync(http, context, error, context?.ClientProtocol ?? ClientProtocol.OpenAI);

    /// <summary>An error without a request context (the context is gone, or there never was one), in <paramref name="protocol"/>'s shape.</summary>
    public static Task WriteErrorAsync(HttpContext http, LlmError error, ClientProtocol protocol) => WriteErrorAsync(http, null, error, protocol);

    private static async Task WriteErrorAsync(HttpContext http, LlmContext? context, LlmError error, ClientProtocol protocol)
    {
        var response = http.Response;
        if (response.HasStarted) return;
        response.StatusCode = error.HttpStatus;
        response.ContentType = "application/json";
        if (error.RetryAfter is { } ra) response.Headers.RetryAfter = Math.Max(0, (int)Math.Ceiling(ra.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        if (context is not null) WriteCommonHeaders(http, context);
        if (error.Provider is not null) response.Headers["x-llmux-provider"] = error.Provider;
        var buffer = new ArrayBufferWriter<byte>(256);
        if (protocol == ClientProtocol.Anthropic) ErrorJsonWriter.WriteAnthropic(buffer, error);
        else ErrorJsonWriter.WriteOpenAI(buffer, error);
        response.ContentLength = buffer.WrittenCount;
        try
        {
            await response.Body.WriteAsync(buffer.WrittenMemory, http.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>
    /// Drains the pump into the response. The first segment decides the status: an error before any content is
    /// an ordinary HTTP error; after that, an error is a final error frame (never <c>[DONE]</c>).
    /// </summary>
    public static async Task WriteStreamAsync(HttpContext http, LlmContext context, StreamPump pump, Action<IBufferWriter<byte>, LlmError>? errorFrame = null)
    {
        // Waits pass no token: the pump was started with http.RequestAborted and completes its channel when it fires.
        var reader = pump.Segments;
        var response = http.Response;
        var aborted = http.RequestAborted;
        try
        {
            if (!await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                await StartAsync(http, context).ConfigureAwait(false);
                return;
            }
            reader.TryRead(out var first);
            if (first.Error is { } early && !first.ContentStarted)
            {
                await WriteErrorAsync(http, context, UnexpectedErrors.ForStream(http, pump, early)).ConfigureAwait(false);
                return;
            }
            await StartAsync(http, context).ConfigureAwait(false);
            var writer = response.BodyWriter;
            var segment = first;
            while (true)
            {
                if (segment.Error is { } failure)
                {
                    var error = UnexpectedErrors.ForStream(http, pump, failure);
                    if (errorFrame is not null) errorFrame(writer, error); // the inbound API's own failure frames (Responses: error + response.failed)
                    else WriteErrorFrame(writer, context.ClientProtocol, error);
                }
                else
                {
                    writer.Write(segment.Memory.Span);
                    segment.Release();
                }
                if (!reader.TryRead(out segment))
                {
                    var flush = await writer.FlushAsync(aborted).ConfigureAwait(false);
                    if (flush.IsCanceled || flush.IsCompleted) { pump.Abort(); return; }
                    if (!await reader.WaitToReadAsync().ConfigureAwait(false)) break;
                    reader.TryRead(out segment);
                }
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            pump.Abort();
        }
        catch (IOException)
        {
            pump.Abort();
        }
        finally
        {
            await pump.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static Task StartAsync(HttpContext http, LlmContext context)
    {
        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = context.ClientProtocol == ClientProtocol.Anthropic ? "text/event-stream" : "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["x-accel-buffering"] = "no";
        WriteCommonHeaders(http, context);
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        return response.StartAsync(http.RequestAborted);
    }

    internal static void WriteErrorFrame(IBufferWriter<byte> writer, ClientProtocol protocol, LlmError error)
    {
        if (protocol == ClientProtocol.Anthropic)
        {
            writer.Write("event: error\ndata: "u8);
            ErrorJsonWriter.WriteAnthropic(writer, error);
        }
        else
        {
            writer.Write("data: "u8);
            ErrorJsonWriter.WriteOpenAI(writer, error);
        }
        writer.Write("\n\n"u8);
    }
}
