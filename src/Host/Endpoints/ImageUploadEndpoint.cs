using LLMux.Host.Config;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Composition;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Providers.Modes;

namespace LLMux.Host.Endpoints;

/// <summary>
/// <c>POST /v1/images/edits</c> and <c>/v1/images/variations</c> (also without <c>/v1</c>): the multipart upload is read
/// once under <c>max_request_size_mb</c> (413 JSON) with its files spooled to disk, checked by the target model's family
/// before any call, and forwarded byte for byte with only <c>model</c> rewritten; the answer is priced as a generation.
/// </summary>
internal sealed class ImageUploadEndpoint(GatewayConfig config, ModelRegistry registry, StageDelegate pipeline, LlmContextPool pool, Func<HttpRequest, bool> authorized)
{
    public void Map(WebApplication app)
    {
        foreach (var path in new[] { "/v1/images/edits", "/images/edits" }) app.Map(path, http => HandleAsync(http, variation: false));
        foreach (var path in new[] { "/v1/images/variations", "/images/variations" }) app.Map(path, http => HandleAsync(http, variation: true));
    }

    private async Task HandleAsync(HttpContext http, bool variation)
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
            context.Mode = LlmMode.Images;
            context.ClientProtocol = ClientProtocol.OpenAI;
            context.RequestAborted = http.RequestAborted;
            context.Caller = Admin.RequestAuthenticator.CallerOf(http);
            context.RequestTimeout = GatewayEndpoints.RequestTimeoutHeader(http.Request);
            var boundary = MultipartBody.BoundaryOf(http.Request.ContentType)
                ?? throw LlmError.Invalid("send the image as multipart/form-data (an `image` part, `model` and, for edits, `prompt`)", null, "invalid_content_type").ToException();
            if (http.Request.ContentLength is { } declared && declared > config.MaxRequestBytes)
            {
                if (declared <= RequestBodyReader.DrainLimit) await RequestBodyReader.DrainAsync(http.Request.BodyReader, http.RequestAborted);
                throw RequestBodyReader.TooLarge(config.MaxRequestBytes, compressed: false);
            }
            upload = await MultipartBody.ReadAsync(http.Request.Body, boundary, config.MaxRequestBytes, http.RequestAborted);
            var caller = context.Caller;
            var request = ImageUpload.From(upload, variation, model => Target(model, caller));
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
            else if (context.ResponseBody is { } answer) await ResponseWriter.WriteJsonAsync(http, context, answer.Memory);
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

    private (string Provider, string Model)? Target(string model, Caller? caller)
    {
        var name = ModelNames.GroupOf(config.Settings.Router, caller, model);
        return registry.Group(name) is { Count: > 0 } group ? (group[0].ProviderName, group[0].UpstreamModel) : null;
    }
}
