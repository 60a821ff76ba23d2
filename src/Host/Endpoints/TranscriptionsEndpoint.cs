using System.Globalization;
using LLMux.Host.Config;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Composition;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Providers.Modes;

namespace LLMux.Host.Endpoints;

/// <summary>
/// <c>POST /v1/audio/transcriptions</c> and <c>/v1/audio/translations</c> (also without <c>/v1</c>): the multipart upload is
/// read once under <c>max_request_size_mb</c> (413 JSON) with the file spooled to disk, checked (file present, non-empty,
/// an audio format; model; response_format; temperature; timestamp granularities) before any call, and forwarded byte for
/// byte with only <c>model</c> rewritten — again on a retry or fallback. json answers are priced by their usage or
/// duration; text, srt and vtt come back as the upstream's text; <c>stream=true</c> SSE passes through as it arrives.
/// </summary>
internal sealed class TranscriptionsEndpoint(GatewayConfig config, StageDelegate pipeline, LlmContextPool pool, Func<HttpRequest, bool> authorized)
{
    public void Map(WebApplication app)
    {
        foreach (var path in new[] { "/v1/audio/transcriptions", "/audio/transcriptions" }) app.Map(path, http => HandleAsync(http, translation: false));
        foreach (var path in new[] { "/v1/audio/translations", "/audio/translations" }) app.Map(path, http => HandleAsync(http, translation: true));
    }

    private async Task HandleAsync(HttpContext http, bool translation)
    {
        if (!HttpMethods.IsPost(http.Request.Method))
        {
            await ResponseWriter.WriteMethodNotAllowedAsync(http, "POST");
            return;
        }
        if (!authorized(http.Request)) { await ResponseWriter.WriteErrorAsync(http, null, Admin.RequestAuthenticator.FailureOf(http)); return; }
        var context = pool.Rent();
        MultipartBody? upload = null;
        try
        {
            context.Mode = LlmMode.AudioTranscription;
            context.ClientProtocol = ClientProtocol.OpenAI;
            context.RequestAborted = http.RequestAborted;
            context.Caller = Admin.RequestAuthenticator.CallerOf(http);
            context.RequestTimeout = GatewayEndpoints.RequestTimeoutHeader(http.Request);
            var boundary = MultipartBody.BoundaryOf(http.Request.ContentType)
                ?? throw LlmError.Invalid("send the audio as multipart/form-data (a `file` part and a `model` field)", null, "invalid_content_type").ToException();
            if (http.Request.ContentLength is { } declared && declared > config.MaxRequestBytes)
            {
                if (declared <= RequestBodyReader.DrainLimit) await RequestBodyReader.DrainAsync(http.Request.BodyReader, http.RequestAborted);
                throw RequestBodyReader.TooLarge(config.MaxRequestBytes, compressed: false);
            }
            upload = await MultipartBody.ReadAsync(http.Request.Body, boundary, config.MaxRequestBytes, http.RequestAborted);
            var request = TranscriptionRequest.From(upload, translation);
            context.UseModel(request.Model);
            context.IsStream = request.Stream;
            context.ModeRequest = new ModeRequest
            {
                Params = request.Params,
                DropParams = upload.Field("drop_params")?.Text is { } dp ? dp is "true" or "True" : null,
                Parsed = request,
            };
            await pipeline(context);
            if (context.Stream is { } pump) await ResponseWriter.WriteStreamAsync(http, context, pump);
            else if (context.ResponseBody is { } answer) await WriteAnswerAsync(http, context, answer.Memory);
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
            upload?.Dispose();
        }
    }

    /// <summary>The upstream's answer with its own Content-Type (json, or text for text/srt/vtt).</summary>
    private static async Task WriteAnswerAsync(HttpContext http, LlmContext context, ReadOnlyMemory<byte> body)
    {
        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = (context.ModeRequest?.Parsed as TranscriptionRequest)?.AnswerContentType
            ?? context.UpstreamResponse?.Content.Headers.ContentType?.ToString() ?? "application/json";
        if (context.Cost is { } cost) response.Headers["x-llmux-response-cost"] = cost.ToString("0.############", CultureInfo.InvariantCulture);
        ResponseWriter.WriteCommonHeaders(http, context);
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body, http.RequestAborted);
    }
}
