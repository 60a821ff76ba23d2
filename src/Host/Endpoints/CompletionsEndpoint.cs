using System.Buffers;
using LLMux.Host.Config;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Composition;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Streaming;
using LLMux.Providers.Common;
using LLMux.Stages.Completions;
using Microsoft.AspNetCore.Http.Features;

namespace LLMux.Host.Endpoints;

/// <summary>
/// OpenAI's legacy <c>POST /v1/completions</c> (editors' autocomplete). A model group whose deployments all have a
/// text-completion API of their own (OpenAI instruct models, <c>text-completion-openai/</c>, vLLM, Together, Fireworks,
/// Ollama) gets the body as it is; Mistral/Codestral FIM gets one <c>/fim/completions</c> call per prompt; every other
/// provider one chat call per prompt (N prompts → N × n choices). Bridged and FIM answers come back as
/// <c>text_completion</c> objects and chunks.
/// </summary>
internal sealed class CompletionsEndpoint(GatewayConfig config, ModelRegistry registry, StageDelegate pipeline, LlmContextPool pool, Func<HttpRequest, bool> authorized)
{
    /// <summary>The completion-only parameters a chat API cannot honour.</summary>
    private static readonly string[] ChatLacks = ["suffix", "echo", "best_of", "logprobs"];

    public void Map(WebApplication app)
    {
        foreach (var path in new[] { "/v1/completions", "/completions", "/openai/v1/completions" })
            app.Map(path, CreateAsync);
    }

    private async Task CreateAsync(HttpContext http)
    {
        var contexts = new List<LlmContext>(1);
        var first = pool.Rent();
        contexts.Add(first);
        PooledBuffer? body = null;
        CompletionRequest? request = null;
        try
        {
            Prepare(http, first);
            if (!HttpMethods.IsPost(http.Request.Method))
            {
                await ResponseWriter.WriteMethodNotAllowedAsync(http, "POST");
                return;
            }
            if (!authorized(http.Request)) { await ResponseWriter.WriteErrorAsync(http, null, Admin.RequestAuthenticator.FailureOf(http)); return; }
            first.Caller = Admin.RequestAuthenticator.CallerOf(http);
            body = await RequestBodyReader.ReadAsync(http.Request, config.MaxRequestBytes, http.RequestAborted);
            request = CompletionsApi.Read(body.Memory);
            var group = Group(first.UseModel(request.Model));
            var route = RouteOf(group);
            if (route == CompletionRoute.Native)
            {
                Describe(first, request, LlmMode.Completion, body.Memory);
                await pipeline(first);
                if (first.Stream is { } pump) await ResponseWriter.WriteStreamAsync(http, first, pump);
                else if (first.ResponseBody is { } answer) await ResponseWriter.WriteJsonAsync(http, first, answer.Memory);
                return;
            }
            var dropped = route == CompletionRoute.Bridge ? BridgeDrops(request, group![0]) : [];
            await PerPromptAsync(http, request, route, dropped, contexts);
        }
        catch (LlmException ex)
        {
            await ResponseWriter.WriteErrorAsync(http, first, ex.Error);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // Client disconnected: the upstream call was cancelled with it.
        }
        catch (BadHttpRequestException ex)
        {
            await ResponseWriter.WriteErrorAsync(http, first, new LlmError
            {
                Kind = ex.StatusCode == 413 ? ErrorKind.PayloadTooLarge : ErrorKind.InvalidRequest,
                Message = "could not read the request body: " + ex.Message,
            });
        }
        finally
        {
            foreach (var c in contexts)
            {
                c.RunCompleted();
                pool.Return(c);
            }
            request?.Document.Dispose();
            body?.Dispose();
        }
    }

    private static void Prepare(HttpContext http, LlmContext context)
    {
        context.ClientProtocol = ClientProtocol.OpenAI;
        context.RequestAborted = http.RequestAborted;
        context.RequestTimeout = GatewayEndpoints.RequestTimeoutHeader(http.Request);
        context.Caller = Admin.RequestAuthenticator.CallerOf(http);
        context.CacheControl = http.Request.Headers.CacheControl;
    }

    private static void Describe(LlmContext context, CompletionRequest request, LlmMode mode, ReadOnlyMemory<byte> body)
    {
        context.Mode = mode;
        context.UseModel(request.Model);
        context.IsStream = request.Stream;
        context.Body = body;
        if (request.Timeout is { } t) context.RequestTimeout = t;
        if (mode != LlmMode.Chat)
        {
            context.ModeRequest = new ModeRequest
            {
                Params = request.Params,
                DropParams = request.DropParams,
                AdditionalDropParams = request.AdditionalDropParams,
                AllowedOpenAIParams = request.AllowedOpenAIParams,
                Parsed = request,
            };
        }
    }

    /// <summary>One upstream call per prompt, in order; the answers are assembled (or streamed) as one text_completion.</summary>
    private async Task PerPromptAsync(HttpContext http, CompletionRequest request, CompletionRoute route, IReadOnlyList<string> dropped, List<LlmContext> contexts)
    {
        var prompts = request.Prompts;
        var assembler = request.Stream ? null : CompletionsApi.NewAssembler(request.N);
        decimal? cost = null;
        var started = false;
        var buffers = new List<PooledBuffer>(prompts.Count);
        try
        {
            for (var i = 0; i < prompts.Count; i++)
            {
                var context = i == 0 ? contexts[0] : Rent(http, contexts);
                var upstreamBody = route == CompletionRoute.Fim ? CompletionsApi.FimBody(request, prompts[i]) : CompletionsApi.ChatBody(request, prompts[i]);
                buffers.Add(upstreamBody);
                Describe(context, request, route == CompletionRoute.Fim ? LlmMode.Completion : LlmMode.Chat, upstreamBody.Memory);
                if (request.Stream) context.StreamTranslatorDecorator = CompletionsApi.StreamDecorator(i, request.N, last: i == prompts.Count - 1);
                try
                {
                    await pipeline(context);
                }
                catch (LlmException ex) when (started)
                {
                    // A later prompt failed after the stream began: a final error frame, never [DONE].
                    await WriteFrameAsync(http, ex.Error);
                    return;
                }
                if (i == 0) foreach (var p in dropped) context.AddDroppedParam(p);
                if (context.Stream is { } pump)
                {
                    if (!await DrainAsync(http, context, pump, started)) return;
                    started = true;
                }
                else if (context.ResponseBody is { } answer)
                {
                    assembler!.Add(i, answer.Span);
                    if (context.Cost is { } c) cost = (cost ?? 0) + c;
                }
            }
            if (assembler is not null)
            {
                using var text = assembler.Write(request.Model, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
                contexts[0].Cost = cost;
                Caching.CompletionCacheHeaders.Combine(contexts);
                await ResponseWriter.WriteJsonAsync(http, contexts[0], text.Memory);
            }
        }
        finally
        {
            foreach (var b in buffers) b.Dispose();
        }
    }

    private LlmContext Rent(HttpContext http, List<LlmContext> contexts)
    {
        var context = pool.Rent();
        contexts.Add(context);
        Prepare(http, context);
        return context;
    }

    /// <summary>
    /// Writes one prompt's stream. The first prompt's first segment decides the status (an error before content is an
    /// ordinary HTTP error); later failures are a final error frame. False when the stream ended in an error.
    /// </summary>
    private static async Task<bool> DrainAsync(HttpContext http, LlmContext context, StreamPump pump, bool started)
    {
        var reader = pump.Segments;
        var response = http.Response;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (reader.TryRead(out var segment))
                {
                    if (segment.Error is { } error)
                    {
                        if (!started && !segment.ContentStarted) { await ResponseWriter.WriteErrorAsync(http, context, error); return false; }
                        if (!started) await StartAsync(http, context);
                        WriteFrame(response.BodyWriter, error);
                        await response.BodyWriter.FlushAsync(http.RequestAborted);
                        return false;
                    }
                    if (!started) { await StartAsync(http, context); started = true; }
                    response.BodyWriter.Write(segment.Memory.Span);
                    segment.Release();
                }
                var flush = await response.BodyWriter.FlushAsync(http.RequestAborted);
                if (flush.IsCanceled || flush.IsCompleted) { pump.Abort(); return false; }
            }
            if (!started) await StartAsync(http, context);
            return true;
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            pump.Abort();
            return false;
        }
        catch (IOException)
        {
            pump.Abort();
            return false;
        }
        finally
        {
            await pump.DisposeAsync();
        }
    }

    private static Task StartAsync(HttpContext http, LlmContext context)
    {
        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["x-accel-buffering"] = "no";
        ResponseWriter.WriteCommonHeaders(http, context);
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        return response.StartAsync(http.RequestAborted);
    }

    private static async Task WriteFrameAsync(HttpContext http, LlmError error)
    {
        WriteFrame(http.Response.BodyWriter, error);
        await http.Response.BodyWriter.FlushAsync(http.RequestAborted);
    }

    private static void WriteFrame(IBufferWriter<byte> writer, LlmError error)
    {
        writer.Write("data: "u8);
        ErrorJsonWriter.WriteOpenAI(writer, error);
        writer.Write("\n\n"u8);
    }

    /// <summary>
    /// The completion-only parameters the chat bridge cannot send: a 400 naming the provider, or (drop_params) dropped
    /// with a warning. <c>echo: false</c> and <c>best_of: 1</c> ask for nothing and pass.
    /// </summary>
    private IReadOnlyList<string> BridgeDrops(CompletionRequest request, Deployment deployment)
    {
        var drop = request.DropParams ?? deployment.DropParams ?? config.Settings.DropParams;
        var list = new List<string>();
        foreach (var p in ChatLacks)
        {
            if (!request.Has(p) || IsNoOp(request, p)) continue;
            if (drop || request.AdditionalDropParams.Contains(p) || deployment.AdditionalDropParams.Contains(p)) { list.Add(p); continue; }
            var rule = CompletionParams.Bridged[p];
            throw new LlmError
            {
                Kind = ErrorKind.UnsupportedParam,
                Message = $"parameter `{p}` is not supported by {deployment.ProviderName} on /v1/completions: {rule.Note} (LLMux sends {deployment.ProviderName} one chat call per prompt); remove it, or set drop_params: true to drop it with a warning",
                Param = p,
                Code = "unsupported_parameter",
                Provider = deployment.ProviderName,
            }.ToException();
        }
        return list;
    }

    private static bool IsNoOp(CompletionRequest request, string p)
    {
        var v = request.Root.GetProperty(p);
        return p switch
        {
            "echo" => v.ValueKind == System.Text.Json.JsonValueKind.False,
            "best_of" => v.TryGetInt32(out var b) && b == 1,
            _ => false,
        };
    }

    private IReadOnlyList<Deployment>? Group(string model)
    {
        var name = config.Settings.Router.ModelGroupAlias.TryGetValue(model, out var aliased) ? aliased : model;
        return registry.Group(name) is { Count: > 0 } group ? group : null;
    }

    /// <summary>Native only when every deployment of the group has its own text-completion API; FIM when all are FIM; else the bridge.</summary>
    private static CompletionRoute RouteOf(IReadOnlyList<Deployment>? group)
    {
        if (group is null) return CompletionRoute.Native; // the route stage answers the unknown model
        var first = Of(group[0]);
        foreach (var d in group)
            if (Of(d) != first) return CompletionRoute.Bridge;
        return first;

        // A provider without the mode goes the native way, where the capability check refuses it naming the mode.
        static CompletionRoute Of(Deployment d) =>
            !d.Provider.Spec.Supports(LlmMode.Completion) ? CompletionRoute.Native
            : d.Provider is ICompletionsUpstream upstream ? upstream.CompletionRouteFor(d) : CompletionRoute.Bridge;
    }
}
