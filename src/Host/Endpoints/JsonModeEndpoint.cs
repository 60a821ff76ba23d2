using LLMux.Host.Config;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Composition;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;

namespace LLMux.Host.Endpoints;

/// <summary>What a JSON mode endpoint learns from its request before the pipeline runs.</summary>
internal sealed record ModeCall(string Model, ModeRequest Request, TimeSpan? Timeout, IDisposable? Owned, bool Stream = false);

/// <summary>
/// A JSON request/response mode (rerank, moderations): the body is read under <c>max_request_size_mb</c>, validated by
/// the mode's reader before anything else, then the standard pipeline runs (route, router, capability check that names
/// the mode, provider writer and reader, usage and cost) and the provider's answer is written with LLMux's headers.
/// </summary>
internal sealed class JsonModeEndpoint(GatewayConfig config, StageDelegate pipeline, LlmContextPool pool, Func<HttpRequest, bool> authorized, LlmMode mode, Func<ReadOnlyMemory<byte>, Caller?, ModeCall> read)
{
    public void Map(WebApplication app, params string[] paths)
    {
        foreach (var path in paths) app.Map(path, HandleAsync);
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
        ModeCall? call = null;
        try
        {
            context.Mode = mode;
            context.ClientProtocol = ClientProtocol.OpenAI;
            context.RequestAborted = http.RequestAborted;
            context.Caller = Admin.RequestAuthenticator.CallerOf(http);
            context.RequestTimeout = GatewayEndpoints.RequestTimeoutHeader(http.Request);
            context.CacheControl = http.Request.Headers.CacheControl;
            body = await RequestBodyReader.ReadAsync(http.Request, config.MaxRequestBytes, http.RequestAborted);
            call = read(body.Memory, context.Caller);
            context.Body = body.Memory;
            context.UseModel(call.Model);
            context.ModeRequest = call.Request;
            if (call.Timeout is { } t) context.RequestTimeout = t;
            context.IsStream = call.Stream;
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
            // Client disconnected: the upstream call was cancelled with it.
        }
        catch (BadHttpRequestException ex)
        {
            await ResponseWriter.WriteErrorAsync(http, context, new LlmError
            {
                Kind = ex.StatusCode == 413 ? ErrorKind.PayloadTooLarge : ErrorKind.InvalidRequest,
                Message = "could not read the request body: " + ex.Message,
            });
        }
        finally
        {
            context.RunCompleted();
            pool.Return(context);
            call?.Owned?.Dispose();
            body?.Dispose();
        }
    }
}
