using System.Buffers;
using System.Globalization;
using LLMux.Host.Config;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Composition;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Providers.Modes;
using Microsoft.AspNetCore.Http.Features;

namespace LLMux.Host.Endpoints;

/// <summary>
/// <c>POST /v1/audio/speech</c> (and <c>/audio/speech</c>): checked before any call, then the upstream's audio is streamed
/// back as the bytes arrive (through the bounded pump, so a slow client slows the upstream read), with the upstream's
/// Content-Type (else the one of <c>response_format</c>); <c>stream_format: sse</c> frames pass through the same way.
/// An upstream error before the first byte is an ordinary JSON error; after it, the connection is aborted.
/// </summary>
internal sealed class SpeechEndpoint(GatewayConfig config, ModelRegistry registry, StageDelegate pipeline, LlmContextPool pool, Func<HttpRequest, bool> authorized)
{
    public void Map(WebApplication app)
    {
        foreach (var path in new[] { "/v1/audio/speech", "/audio/speech" }) app.Map(path, HandleAsync);
    }

    private async Task HandleAsync(HttpContext http)
    {
        if (!HttpMethods.IsPost(http.Request.Method))
        {
            await ResponseWriter.WriteMethodNotAllowedAsync(http, "POST");
            return;
        }
        if (!authorized(http.Request)) { await ResponseWriter.WriteErrorAsync(http, null, Admin.RequestAuthenticator.FailureOf(http)); return; }
        var context = pool.Rent();
        PooledBuffer? body = null;
        try
        {
            context.Mode = LlmMode.AudioSpeech;
            context.ClientProtocol = ClientProtocol.OpenAI;
            context.RequestAborted = http.RequestAborted;
            context.Caller = Admin.RequestAuthenticator.CallerOf(http);
            context.RequestTimeout = GatewayEndpoints.RequestTimeoutHeader(http.Request);
            body = await RequestBodyReader.ReadAsync(http.Request, config.MaxRequestBytes, http.RequestAborted);
            var caller = context.Caller;
            var speech = SpeechRequest.Parse(body.Memory, model => UpstreamModel(model, caller));
            context.Body = body.Memory;
            context.UseModel(speech.Model);
            context.IsStream = true;
            context.ModeRequest = new ModeRequest { Params = speech.Params, DropParams = speech.DropParams, Parsed = speech };
            await pipeline(context);
            if (context.Stream is { } pump) await WriteAudioAsync(http, context, pump, speech);
        }
        catch (LlmException ex)
        {
            await ResponseWriter.WriteErrorAsync(http, context, ex.Error);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
        }
        catch (BadHttpRequestException ex)
        {
            await ResponseWriter.WriteErrorAsync(http, context, new LlmError { Kind = ex.StatusCode == 413 ? ErrorKind.PayloadTooLarge : ErrorKind.InvalidRequest, Message = "could not read the request body: " + ex.Message });
        }
        finally
        {
            context.RunCompleted();
            pool.Return(context);
            body?.Dispose();
        }
    }

    private string? UpstreamModel(string model, Caller? caller)
    {
        var name = ModelNames.GroupOf(config.Settings.Router, caller, model);
        return registry.Group(name) is { Count: > 0 } group ? group[0].UpstreamModel : null;
    }

    private static async Task WriteAudioAsync(HttpContext http, LlmContext context, Pipeline.Streaming.StreamPump pump, SpeechRequest speech)
    {
        var reader = pump.Segments;
        var response = http.Response;
        var started = false;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (reader.TryRead(out var segment))
                {
                    if (segment.Error is { } error)
                    {
                        if (!started) { await ResponseWriter.WriteErrorAsync(http, context, error); return; }
                        http.Abort(); // bytes were sent: a truncated audio file must not look complete
                        return;
                    }
                    if (!started) { await StartAsync(http, context, speech); started = true; }
                    response.BodyWriter.Write(segment.Memory.Span);
                    segment.Release();
                }
                var flush = await response.BodyWriter.FlushAsync(http.RequestAborted);
                if (flush.IsCanceled || flush.IsCompleted) { pump.Abort(); return; }
            }
            if (!started) await StartAsync(http, context, speech);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            pump.Abort();
        }
        catch (IOException)
        {
            pump.Abort();
        }
        finally
        {
            await pump.DisposeAsync();
        }
    }

    /// <summary>The upstream's audio (or SSE) Content-Type; else the one the provider built the audio in; else the format's.</summary>
    private static string ContentTypeOf(LlmContext context, SpeechRequest speech)
    {
        if (context.UpstreamResponse?.Content.Headers.ContentType is { } upstream
            && (upstream.MediaType?.StartsWith("audio/", StringComparison.OrdinalIgnoreCase) == true || upstream.MediaType == "text/event-stream"
                || speech.AnswerContentType is null))
            return upstream.ToString();
        return speech.AnswerContentType ?? (speech.Sse ? "text/event-stream" : SpeechRequest.ContentType(speech.Format));
    }

    private static Task StartAsync(HttpContext http, LlmContext context, SpeechRequest speech)
    {
        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = ContentTypeOf(context, speech);
        if (context.Usage is { } usage && context.PriceOf(usage) is { } cost)
            response.Headers["x-llmux-response-cost"] = cost.ToString("0.############", CultureInfo.InvariantCulture);
        ResponseWriter.WriteCommonHeaders(http, context);
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        return response.StartAsync(http.RequestAborted);
    }
}
