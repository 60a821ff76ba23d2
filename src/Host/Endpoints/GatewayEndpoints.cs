using System.Text.Json;
using LLMux.Host.Config;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Composition;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;

namespace LLMux.Host.Endpoints;

/// <summary>The HTTP surface: OpenAI-compatible routes over the stage pipeline, plus models and health.</summary>
internal sealed partial class GatewayEndpoints(GatewayConfig config, ModelRegistry registry, StageDelegate pipeline, LlmContextPool pool, ILogger logger, Admin.RequestAuthenticator? authenticator = null)
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "dropped unsupported params for {Provider} (model {Model}): {Params}")]
    private static partial void LogDropped(ILogger logger, string? provider, string? model, string @params);

    private readonly Admin.RequestAuthenticator _auth = authenticator ?? new Admin.RequestAuthenticator(config, null);

    public void Map(WebApplication app)
    {
        foreach (var path in new[] { "/v1/chat/completions", "/chat/completions", "/openai/v1/chat/completions" })
            app.Map(path, http => HandleAsync(http, LlmMode.Chat));
        foreach (var path in new[] { "/v1/embeddings", "/embeddings", "/openai/v1/embeddings" })
            app.Map(path, http => HandleAsync(http, LlmMode.Embeddings));
        new MessagesEndpoint(config, registry, pipeline, pool, Authorized).Map(app);
        new CompletionsEndpoint(config, registry, pipeline, pool, Authorized).Map(app);
        RerankEndpoint.Map(app, config, pipeline, pool, Authorized);
        ModerationsEndpoint.Map(app, config, registry, pipeline, pool, Authorized);
        ImagesEndpoint.Map(app, config, registry, pipeline, pool, Authorized);
        new ImageUploadEndpoint(config, registry, pipeline, pool, Authorized).Map(app);
        new SpeechEndpoint(config, registry, pipeline, pool, Authorized).Map(app);
        new TranscriptionsEndpoint(config, pipeline, pool, Authorized).Map(app);
        new ResponsesEndpoint(config, registry, pipeline, pool, Authorized, Admin.RequestAuthenticator.PresentedKey, app.Services.GetService<LLMux.Stages.Responses.IResponseStore>() ?? new LLMux.Stages.Responses.InMemoryResponseStore(config.ResponseStore, pool.TimeProvider), pool.TimeProvider).Map(app);
        foreach (var path in new[] { "/v1/models", "/models" })
            app.Map(path, ModelsAsync);
        foreach (var path in new[] { "/v1/models/{**id}", "/models/{**id}" })
            app.Map(path, ModelAsync);
        foreach (var path in new[] { "/model/info", "/v1/model/info" })
            app.Map(path, ModelInfoAsync);
        foreach (var path in new[] { "/health/liveliness", "/health/liveness", "/health/readiness", "/health" })
            app.Map(path, HealthAsync);
        CapabilitiesEndpoint.Map(app, app.Services.GetRequiredService<LLMux.Providers.ProviderCatalog>());
        // Unmatched routes get OpenAI's error JSON from a middleware rather than a catch-all fallback route: a catch-all is
        // a candidate of every request, so routing allocated its route values (a dictionary and the path's substring) on
        // every call. A wrong method on a method-bound route is answered the same way, as the fallback route did.
        app.Use((http, next) => http.GetEndpoint() is not { } endpoint || endpoint.DisplayName == MethodNotSupportedEndpoint
            ? RouteNotFound(http)
            : next(http));
    }

    /// <summary>The display name of the endpoint routing selects when only the HTTP method did not match.</summary>
    private const string MethodNotSupportedEndpoint = "405 HTTP Method Not Supported";

    private static Task RouteNotFound(HttpContext http) => ResponseWriter.WriteErrorAsync(http, null, new LlmError
    {
        Kind = ErrorKind.NotFound,
        Message = $"no route {http.Request.Method} {http.Request.Path}; LLMux serves /v1/chat/completions, /v1/completions, /v1/rerank, /v1/moderations, /v1/images/generations, /v1/images/edits, /v1/images/variations, /v1/audio/speech, /v1/audio/transcriptions, /v1/audio/translations, /v1/responses, /v1/messages, /v1/embeddings, /v1/models and /health/*",
        Code = "route_not_found",
    });

    private async Task HandleAsync(HttpContext http, LlmMode mode)
    {
        if (!HttpMethods.IsPost(http.Request.Method)) { await MethodNotAllowed(http, "POST"); return; }
        if (!Authorized(http.Request)) { await Unauthorized(http); return; }

        var context = pool.Rent();
        PooledBuffer? body = null;
        var streaming = false;
        try
        {
            context.Mode = mode;
            context.ClientProtocol = ClientProtocol.OpenAI;
            context.RequestAborted = http.RequestAborted;
            context.Caller = Admin.RequestAuthenticator.CallerOf(http);
            context.RequestTimeout = RequestTimeoutHeader(http.Request);
            context.CacheControl = http.Request.Headers.CacheControl;
            body = await RequestBodyReader.ReadAsync(http.Request, config.MaxRequestBytes, http.RequestAborted);
            context.Body = body.Memory;
            await pipeline(context);
            if (context.DroppedParams.Count > 0) LogDropped(logger, context.ProviderName, context.RequestedModel, string.Join(", ", context.DroppedParams));
            if (context.Stream is { } pump)
            {
                streaming = true;
                await ResponseWriter.WriteStreamAsync(http, context, pump);
            }
            else if (context.ResponseBody is { } answer)
            {
                await ResponseWriter.WriteJsonAsync(http, context, answer.Memory);
            }
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
            _ = streaming;
            context.RunCompleted();
            body?.Dispose();
            pool.Return(context);
        }
    }

    /// <summary>LiteLLM's <c>x-litellm-timeout</c> header (seconds); ignored when it is not a positive number.</summary>
    internal static TimeSpan? RequestTimeoutHeader(HttpRequest request) =>
        request.Headers.TryGetValue("x-litellm-timeout", out var v)
        && double.TryParse(v.ToString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var s) && s > 0
            ? TimeSpan.FromSeconds(s) : null;

    /// <summary>Authenticates the request (master key or virtual key); the caller is then on the request (<see cref="Admin.RequestAuthenticator.CallerOf"/>).</summary>
    private bool Authorized(HttpRequest request) => _auth.Authorize(request);

    private static Task Unauthorized(HttpContext http) => ResponseWriter.WriteErrorAsync(http, null, Admin.RequestAuthenticator.FailureOf(http));

    private static Task MethodNotAllowed(HttpContext http, string allowed) => ResponseWriter.WriteMethodNotAllowedAsync(http, allowed);

    private async Task ModelsAsync(HttpContext http)
    {
        if (!HttpMethods.IsGet(http.Request.Method)) { await MethodNotAllowed(http, "GET"); return; }
        if (!Authorized(http.Request)) { await Unauthorized(http); return; }
        http.Response.ContentType = "application/json";
        await using var w = new Utf8JsonWriter(http.Response.Body);
        if (http.Request.Headers.ContainsKey("anthropic-version"))
        {
            // Anthropic's Models API shape, for Anthropic SDKs and Claude Code.
            var query = http.Request.Query;
            var limit = int.TryParse(query["limit"], out var l) ? Math.Clamp(l, 1, 1000) : 20;
            ModelListWriter.WriteAnthropic(w, registry, limit, NonEmpty(query["after_id"]), NonEmpty(query["before_id"]), Visible(http), AliasesOf(http));
        }
        else
        {
            ModelListWriter.WriteOpenAI(w, registry, Visible(http), AliasesOf(http));
        }
    }

    /// <summary>
    /// The caller's model aliases it may call (a key's <c>aliases</c>, its team's <c>model_aliases</c>), each with the model
    /// group it routes to: listed beside the configured names, described by their targets. Null when there are none.
    /// </summary>
    private List<KeyValuePair<string, string>>? AliasesOf(HttpContext http)
    {
        if (_auth.Governance is not { } governance || Admin.RequestAuthenticator.CallerOf(http) is not { ModelAliases: { Count: > 0 } aliases } caller) return null;
        var list = new List<KeyValuePair<string, string>>(aliases.Count);
        foreach (var (alias, target) in aliases)
        {
            var group = ModelNames.GroupOf(config.Settings.Router, null, target);
            if (registry.Group(group) is { Count: > 0 } && governance.MayCall(caller, target, alias)) list.Add(new(alias, group));
        }
        list.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        return list;
    }

    /// <summary>A virtual key sees the models its key and team may call (LiteLLM filters the lists the same way); others see all.</summary>
    private Func<string, bool>? Visible(HttpContext http) =>
        _auth.Governance is { } governance && Admin.RequestAuthenticator.CallerOf(http) is { IsAdmin: false, KeyHash.Length: > 0 } caller
            ? model => governance.MayCall(caller, model)
            : null;

    private async Task ModelInfoAsync(HttpContext http)
    {
        if (!HttpMethods.IsGet(http.Request.Method)) { await MethodNotAllowed(http, "GET"); return; }
        if (!Authorized(http.Request)) { await Unauthorized(http); return; }
        http.Response.ContentType = "application/json";
        await using var w = new Utf8JsonWriter(http.Response.Body);
        ModelListWriter.WriteModelInfo(w, registry, Visible(http), AliasesOf(http));
    }

    private async Task ModelAsync(HttpContext http)
    {
        if (!HttpMethods.IsGet(http.Request.Method)) { await MethodNotAllowed(http, "GET"); return; }
        if (!Authorized(http.Request)) { await Unauthorized(http); return; }
        var id = (string)http.Request.RouteValues["id"]!;
        string? describes = null;
        if (registry.Group(id) is not { Count: > 0 } && AliasesOf(http) is { } aliases)
            foreach (var (alias, group) in aliases) if (alias == id) describes = group;
        if (describes is null && (registry.Group(id) is not { Count: > 0 } || Visible(http) is { } visible && !visible(id)))
        {
            await ResponseWriter.WriteErrorAsync(http, null, new LlmError
            {
                Kind = ErrorKind.NotFound,
                Message = $"model `{id}` is not served here; GET /v1/models lists the models",
                Param = "model",
                Code = "model_not_found",
            });
            return;
        }
        http.Response.ContentType = "application/json";
        await using var w = new Utf8JsonWriter(http.Response.Body);
        if (http.Request.Headers.ContainsKey("anthropic-version")) ModelListWriter.WriteAnthropicModel(w, registry, id, describes);
        else ModelListWriter.WriteOpenAIModel(w, registry, id, describes);
    }

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static async Task HealthAsync(HttpContext http)
    {
        if (!HttpMethods.IsGet(http.Request.Method)) { await MethodNotAllowed(http, "GET"); return; }
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(http.Request.Path.Value?.EndsWith("readiness", StringComparison.Ordinal) == true
            ? "{\"status\":\"healthy\",\"db\":\"Not connected\"}"
            : "\"I'm alive!\"");
    }
}
