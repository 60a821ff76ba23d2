using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using LLMux.Host.Config;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Composition;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;
using LLMux.Providers.OpenAI;
using LLMux.Stages.Responses;

namespace LLMux.Host.Endpoints;

/// <summary>
/// OpenAI's Responses API in front of every provider. <c>POST /v1/responses</c> goes natively to a provider that
/// speaks it (OpenAI, Azure, xAI: body forwarded, frames as they arrive) and through the chat bridge to every
/// other (translated onto the one chat request phase, the answer or stream turned back into Response objects
/// and events). Bridged responses with <c>store</c> (default true) go into the <see cref="IResponseStore"/>,
/// scoped by the caller's key, for <c>previous_response_id</c>, GET, DELETE and input_items. Also answers on
/// <c>/responses</c> and <c>/openai/v1/responses</c>; Codex's <c>session_id</c>/<c>originator</c> headers are accepted.
/// </summary>
internal sealed class ResponsesEndpoint(GatewayConfig config, ModelRegistry registry, StageDelegate pipeline, LlmContextPool pool,
    Func<HttpRequest, bool> authorized, Func<HttpRequest, string?> presentedKey, IResponseStore store, TimeProvider time)
{
    /// <summary>Longest previous_response_id chain followed (older links are treated as gone).</summary>
    private const int MaxChain = 256;

    private readonly BackgroundResponses _background = new();

    public void Map(WebApplication app)
    {
        app.Lifetime.ApplicationStopping.Register(static b => ((BackgroundResponses)b!).CancelAll(), _background);
        foreach (var root in new[] { "/v1/responses", "/responses", "/openai/v1/responses" })
        {
            app.Map(root, CreateAsync);
            app.Map(root + "/input_tokens", InputTokensAsync);
            app.Map(root + "/{id}", ByIdAsync);
            app.Map(root + "/{id}/input_items", InputItemsAsync);
            app.Map(root + "/{id}/cancel", CancelAsync);
        }
    }

    private async Task CreateAsync(HttpContext http)
    {
        var context = pool.Rent();
        PooledBuffer? body = null;
        ResponsesTranslation? translation = null;
        PooledBuffer? answer = null;
        List<JsonDocument>? chain = null; // the bridge's stored history; the native path keeps none
        try
        {
            context.ClientProtocol = ClientProtocol.OpenAI;
            context.RequestAborted = http.RequestAborted;
            context.RequestTimeout = GatewayEndpoints.RequestTimeoutHeader(http.Request);
            context.CacheControl = http.Request.Headers.CacheControl;
            if (!await AdmitAsync(http, context, "POST")) return;
            body = await RequestBodyReader.ReadAsync(http.Request, config.MaxRequestBytes, http.RequestAborted);
            using var doc = ResponsesApi.Read(body.Memory);
            var root = doc.RootElement;
            var model = context.UseModel(root.GetProperty("model").GetString()!);
            var stream = root.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;

            if (AllNative(model))
            {
                // The provider keeps its own state (store, previous_response_id, background, conversation): the body goes upstream as it is.
                context.Mode = LlmMode.Responses;
                context.RequestedModel = model;
                context.IsStream = stream;
                context.Body = body.Memory;
                var providerStores = !(root.TryGetProperty("store", out var st) && st.ValueKind == JsonValueKind.False);
                NativeResponseIdReader? ids = null;
                if (providerStores && stream) context.StreamTranslatorDecorator = (inner, _) => ids = new NativeResponseIdReader(inner);
                await pipeline(context);
                string? recorded = null;
                if (context.Stream is { } pump)
                {
                    // The first event was read before the pipeline returned: the id is known before the client sees it.
                    // The caller's scope (a key hash) is worked out only for a response that is recorded.
                    if (ids?.Id is { } early) await RecordNativeAsync(Owner(http.Request), recorded = early, context);
                    await ResponseWriter.WriteStreamAsync(http, context, pump, WriteRawErrorFrame);
                    if (recorded is null && ids?.Id is { } late) await RecordNativeAsync(Owner(http.Request), late, context);
                }
                else if (context.ResponseBody is { } raw)
                {
                    if (providerStores && NativeResponseIdReader.FromBody(raw.Span) is { } id) await RecordNativeAsync(Owner(http.Request), id, context);
                    await ResponseWriter.WriteJsonAsync(http, context, raw.Memory);
                }
                return;
            }

            var owner = Owner(http.Request);
            chain = [];
            var previous = ResponsesRequestReaderPrevious(root);
            var history = previous is null ? [] : await HistoryAsync(owner, previous, chain, http.RequestAborted);
            var shape = ResponsesApi.Shape(root, time.GetUtcNow().ToUnixTimeSeconds());
            if (shape.Background)
            {
                if (stream)
                    throw LlmError.Invalid("'stream' with 'background': LLMux's bridge runs background responses without a stream; send stream: false and poll GET /v1/responses/{id} (or stream without background)", "stream", "unsupported_parameter").ToException();
                if (!shape.Store)
                    throw LlmError.Invalid("'background' requires 'store': true: a background response is read back with GET /v1/responses/{id}.", "store", "invalid_value").ToException();
            }
            var referenced = await ReferencedItemsAsync(owner, root, history, chain, http.RequestAborted);
            translation = ResponsesApi.ToChatRequest(root, history, FirstDeployment(model), referenced);
            if (shape.Background)
            {
                await StartBackgroundAsync(http, owner, shape, translation, context.Caller, context.CacheControl);
                translation = null; // the run owns it now
                return;
            }
            context.Mode = LlmMode.Chat;
            context.Body = translation.Body.Memory;
            ResponsesStreamState? state = null;
            ValueTask stored = default;
            if (stream)
            {
                var tr = translation;
                // Stored before response.completed reaches the client: a follow-up may chain on it at once.
                state = ResponsesApi.StreamState(shape, shape.Store ? (body, items) => stored = StoreAsync(owner, shape, context, tr, body, items) : null);
                context.StreamTranslatorDecorator = ResponsesApi.StreamDecorator(state, translation.Tools);
            }
            await pipeline(context);
            if (translation.Warnings is { } warnings)
                context.ResponseHeaders.Add(new("x-llmux-warnings", "dropped Responses params the provider has no equivalent for: " + string.Join(", ", warnings)));
            if (context.Stream is { } bridged)
            {
                await ResponseWriter.WriteStreamAsync(http, context, bridged, state!.WriteFailure);
                await stored;
                if (ResponsesApi.Finished(state) is { } done) answer = done.Body;
            }
            else if (context.ResponseBody is { } completion)
            {
                var (response, outputItems) = ResponsesApi.ToResponse(completion.Span, shape, context.ProviderName, translation.Tools);
                completion.Dispose();
                context.ResponseBody = response;
                if (shape.Store) await StoreAsync(owner, shape, context, translation, response, outputItems);
                await ResponseWriter.WriteJsonAsync(http, context, response.Memory);
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
            if (chain is not null) foreach (var d in chain) d.Dispose();
            answer?.Dispose();
            translation?.Body.Dispose();
            context.RunCompleted();
            body?.Dispose();
            pool.Return(context);
        }
    }

    /// <summary>
    /// Bridged <c>background: true</c>: the request was validated and translated; it is stored as <c>queued</c>, answered at
    /// once, and run on its own context whose cancellation is <c>POST /cancel</c>'s (the upstream call ends with it).
    /// </summary>
    private async Task StartBackgroundAsync(HttpContext http, string owner, ResponseShape shape, ResponsesTranslation translation, Caller? caller, string? cacheControl)
    {
        var queued = ResponsesApi.StatusResponse(shape, "queued");
        var run = _background.Start(shape.Id, owner);
        run.Shape = shape;
        run.InputItems = translation.InputItems;
        try
        {
            await store.PutAsync(BackgroundEntry(run, queued, "queued", null, []), CancellationToken.None);
        }
        catch
        {
            _background.Finish(run);
            translation.Body.Dispose();
            throw;
        }
        _ = Task.Run(() => RunInBackgroundAsync(run, translation, caller, cacheControl));
        http.Response.StatusCode = 200;
        http.Response.ContentType = "application/json";
        http.Response.ContentLength = queued.Length;
        await http.Response.Body.WriteAsync(queued, http.RequestAborted);
    }

    private static StoredResponse BackgroundEntry(BackgroundResponses.Run run, byte[] response, string status, string? deploymentId, byte[] outputItems) =>
        new(run.Id, run.Owner, DateTimeOffset.FromUnixTimeSeconds(run.Shape!.CreatedAt), run.Shape.PreviousResponseId, deploymentId, response, run.InputItems, outputItems)
        {
            Background = true,
            Status = status,
        };

    private async Task RunInBackgroundAsync(BackgroundResponses.Run run, ResponsesTranslation translation, Caller? caller, string? cacheControl)
    {
        var context = pool.Rent();
        var shape = run.Shape!;
        try
        {
            context.ClientProtocol = ClientProtocol.OpenAI;
            context.Caller = caller;
            context.CacheControl = cacheControl;
            context.RequestAborted = run.Token;
            context.Mode = LlmMode.Chat;
            context.Body = translation.Body.Memory;
            if (!run.Token.IsCancellationRequested)
                await store.PutAsync(BackgroundEntry(run, ResponsesApi.StatusResponse(shape, "in_progress"), "in_progress", null, []), CancellationToken.None);
            await pipeline(context);
            if (context.ResponseBody is not { } completion) throw new LlmError { Kind = ErrorKind.BadGateway, Message = "the provider gave no answer" }.ToException();
            var (response, outputItems) = ResponsesApi.ToResponse(completion.Span, shape, context.ProviderName, translation.Tools);
            completion.Dispose();
            context.ResponseBody = response;
            var status = NativeResponseIdReader.TopLevelString(response.Span, "status"u8) ?? "completed";
            if (run.TrySettle()) await store.PutAsync(BackgroundEntry(run, response.Span.ToArray(), status, context.Deployment?.Id, outputItems), CancellationToken.None);
        }
        catch (OperationCanceledException) when (run.Token.IsCancellationRequested)
        {
            // Cancelled: POST /cancel wrote the cancelled state (or the host is stopping).
            if (run.TrySettle()) await store.PutAsync(BackgroundEntry(run, ResponsesApi.StatusResponse(shape, "cancelled"), "cancelled", null, []), CancellationToken.None);
        }
        catch (LlmException ex)
        {
            if (run.TrySettle())
                await store.PutAsync(BackgroundEntry(run, ResponsesApi.StatusResponse(shape, "failed", (ResponsesApi.FailureCode(ex.Error), ex.Error.Message)), "failed", context.Deployment?.Id, []), CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // No client is waiting on this task: a failure nobody records would leave the response in_progress for ever.
            if (run.TrySettle())
                await store.PutAsync(BackgroundEntry(run, ResponsesApi.StatusResponse(shape, "failed", ("server_error", "the background response failed: " + ex.GetType().Name)), "failed", context.Deployment?.Id, []), CancellationToken.None);
        }
        finally
        {
            translation.Body.Dispose();
            context.RunCompleted();
            pool.Return(context);
            _background.Finish(run);
        }
    }

    /// <summary>Records which deployment served a native response id, so that GET, DELETE, cancel and input_items go back to it.</summary>
    private ValueTask RecordNativeAsync(string owner, string id, LlmContext context) =>
        context.Deployment is { } d
            ? store.PutAsync(new StoredResponse(id, owner, time.GetUtcNow(), null, d.Id, [], [], []) { Native = true, Status = "native" }, CancellationToken.None)
            : ValueTask.CompletedTask;

    /// <summary>The stored items that <c>item_reference</c> inputs name outside the previous_response_id chain (the caller's own responses only).</summary>
    private async Task<Dictionary<string, JsonElement>?> ReferencedItemsAsync(string owner, JsonElement root, List<JsonElement> history, List<JsonDocument> keep, CancellationToken cancellationToken)
    {
        if (ResponsesApi.ItemReferences(root) is not { } ids) return null;
        Dictionary<string, JsonElement>? found = null;
        foreach (var id in ids)
        {
            var inChain = false;
            foreach (var item in history)
                if (item.TryGetProperty("id", out var v) && v.ValueKind == JsonValueKind.String && v.ValueEquals(id)) { inChain = true; break; }
            if (inChain || (found?.ContainsKey(id) ?? false)) continue;
            if (await store.GetItemAsync(owner, id, cancellationToken) is not { } bytes) continue; // the translator names the missing id
            var doc = JsonDocument.Parse(bytes);
            keep.Add(doc);
            (found ??= new(StringComparer.Ordinal))[id] = doc.RootElement;
        }
        return found;
    }

    private static string? ResponsesRequestReaderPrevious(JsonElement root) =>
        root.TryGetProperty("previous_response_id", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;

    /// <summary>The stored items of the chain ending at <paramref name="id"/>, oldest first: each turn's input, then its output.</summary>
    private async Task<List<JsonElement>> HistoryAsync(string owner, string id, List<JsonDocument> keep, CancellationToken cancellationToken)
    {
        var links = new List<StoredResponse>();
        var next = id;
        while (next is not null && links.Count < MaxChain)
        {
            var stored = await store.GetAsync(owner, next, cancellationToken);
            if (stored is null)
            {
                if (links.Count == 0)
                {
                    throw LlmError.Invalid($"Previous response with id '{id}' not found.", "previous_response_id", "previous_response_not_found").ToException();
                }
                break; // an older link expired: the chain starts at the oldest one still kept
            }
            links.Add(stored);
            next = stored.PreviousResponseId;
        }
        var items = new List<JsonElement>();
        for (var i = links.Count - 1; i >= 0; i--)
        {
            foreach (var bytes in (ReadOnlySpan<byte[]>)[links[i].InputItems, links[i].OutputItems])
            {
                var doc = JsonDocument.Parse(bytes);
                keep.Add(doc);
                foreach (var item in doc.RootElement.EnumerateArray()) items.Add(item);
            }
        }
        return items;
    }

    private ValueTask StoreAsync(string owner, ResponseShape shape, LlmContext context, ResponsesTranslation translation, PooledBuffer response, byte[] outputItems) =>
        store.PutAsync(new StoredResponse(shape.Id, owner, DateTimeOffset.FromUnixTimeSeconds(shape.CreatedAt), shape.PreviousResponseId,
            context.Deployment?.Id, response.Span.ToArray(), translation.InputItems, outputItems), CancellationToken.None);

    /// <summary>A native stream that fails after it began: OpenAI's own frames (the upstream's bytes so far were forwarded as they came).</summary>
    internal static void WriteRawErrorFrame(IBufferWriter<byte> output, LlmError error)
    {
        using var w = new Utf8JsonWriter(output, JsonOut.Options);
        output.Write("event: error\ndata: "u8);
        w.WriteStartObject();
        w.WriteString("type"u8, "error"u8);
        w.WriteString("code"u8, ResponsesStreamStateCodes.For(error));
        w.WriteString("message"u8, error.Message);
        w.WriteNull("param"u8);
        w.WriteEndObject();
        w.Flush();
        output.Write("\n\n"u8);
    }

    private async Task ByIdAsync(HttpContext http)
    {
        var id = (string)http.Request.RouteValues["id"]!;
        var method = http.Request.Method;
        if (!HttpMethods.IsGet(method) && !HttpMethods.IsDelete(method))
        {
            http.Response.Headers.Allow = "GET, DELETE";
            await ResponseWriter.WriteErrorAsync(http, null, new LlmError { Kind = ErrorKind.MethodNotAllowed, Message = $"{method} is not allowed on {http.Request.Path}; use GET or DELETE", Code = "method_not_allowed" });
            return;
        }
        if (!await AuthorizedAsync(http)) return;
        var owner = Owner(http.Request);
        var stored = await store.GetAsync(owner, id, http.RequestAborted);
        if (stored is { Native: true })
        {
            if (await ProxyAsync(http, stored, HttpMethods.IsDelete(method) ? HttpMethod.Delete : HttpMethod.Get, null) && HttpMethods.IsDelete(method))
                await store.DeleteAsync(owner, id, CancellationToken.None);
            return;
        }
        if (HttpMethods.IsDelete(method))
        {
            if (_background.Find(owner, id) is { } running && running.TrySettle()) running.Cancel(); // deleting a running response stops it
            if (!await store.DeleteAsync(owner, id, http.RequestAborted)) { await NotFoundAsync(http, id); return; }
            await WriteSmallJsonAsync(http, w =>
            {
                w.WriteString("id"u8, id);
                w.WriteString("object"u8, "response"u8);
                w.WriteBoolean("deleted"u8, true);
            });
            return;
        }
        if (stored is null) { await NotFoundAsync(http, id); return; }
        http.Response.ContentType = "application/json";
        http.Response.ContentLength = stored.Response.Length;
        await http.Response.Body.WriteAsync(stored.Response, http.RequestAborted);
    }

    /// <summary>OpenAI's list of a response's input items: <c>limit</c> (1–100, 20), <c>order</c> (desc default), <c>after</c>/<c>before</c> item ids.</summary>
    private async Task InputItemsAsync(HttpContext http)
    {
        if (!HttpMethods.IsGet(http.Request.Method))
        {
            await ResponseWriter.WriteMethodNotAllowedAsync(http, "GET");
            return;
        }
        if (!await AuthorizedAsync(http)) return;
        var id = (string)http.Request.RouteValues["id"]!;
        var query = http.Request.Query;
        var limit = 20;
        if (query.TryGetValue("limit", out var l) && (!int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > 100))
        {
            await ResponseWriter.WriteErrorAsync(http, null, LlmError.Invalid("Invalid 'limit': must be an integer between 1 and 100.", "limit", "invalid_value"));
            return;
        }
        var order = query.TryGetValue("order", out var o) ? o.ToString() : "desc";
        if (order is not ("asc" or "desc"))
        {
            await ResponseWriter.WriteErrorAsync(http, null, LlmError.Invalid("Invalid 'order': must be asc or desc.", "order", "invalid_value"));
            return;
        }
        var stored = await store.GetAsync(Owner(http.Request), id, http.RequestAborted);
        if (stored is null) { await NotFoundAsync(http, id); return; }
        if (stored.Native) { await ProxyAsync(http, stored, HttpMethod.Get, "input_items"); return; }
        using var doc = JsonDocument.Parse(stored.InputItems);
        var all = new List<JsonElement>(doc.RootElement.EnumerateArray());
        if (order == "desc") all.Reverse();
        var start = 0;
        var end = all.Count;
        if (query.TryGetValue("after", out var after)) start = IndexOf(all, after.ToString()) + 1;
        if (query.TryGetValue("before", out var before) && IndexOf(all, before.ToString()) is >= 0 and var b) end = b;
        if (start > end) start = end;
        var page = Math.Min(limit, end - start);
        await WriteSmallJsonAsync(http, w =>
        {
            w.WriteString("object"u8, "list"u8);
            w.WriteStartArray("data"u8);
            for (var i = start; i < start + page; i++) all[i].WriteTo(w);
            w.WriteEndArray();
            if (page > 0) { w.WriteString("first_id"u8, all[start].GetProperty("id").GetString()); w.WriteString("last_id"u8, all[start + page - 1].GetProperty("id").GetString()); }
            else { w.WriteNull("first_id"u8); w.WriteNull("last_id"u8); }
            w.WriteBoolean("has_more"u8, start + page < end);
        });
    }

    private static int IndexOf(List<JsonElement> items, string id)
    {
        for (var i = 0; i < items.Count; i++)
            if (items[i].TryGetProperty("id", out var v) && v.ValueEquals(id)) return i;
        return -1;
    }

    private async Task CancelAsync(HttpContext http)
    {
        if (!HttpMethods.IsPost(http.Request.Method))
        {
            await ResponseWriter.WriteMethodNotAllowedAsync(http, "POST");
            return;
        }
        if (!await AuthorizedAsync(http)) return;
        var id = (string)http.Request.RouteValues["id"]!;
        var owner = Owner(http.Request);
        var stored = await store.GetAsync(owner, id, http.RequestAborted);
        if (stored is null) { await NotFoundAsync(http, id); return; }
        if (stored.Native) { await ProxyAsync(http, stored, HttpMethod.Post, "cancel"); return; }
        if (!stored.Background)
        {
            await ResponseWriter.WriteErrorAsync(http, null, LlmError.Invalid("Cannot cancel a synchronous response: only background responses can be cancelled.", null, "invalid_request"));
            return;
        }
        var answer = stored.Response;
        if (_background.Find(owner, id) is { } run && run.TrySettle())
        {
            // Still running: its upstream call is cancelled and the response ends as cancelled (OpenAI keeps no partial output).
            answer = ResponsesApi.StatusResponse(run.Shape!, "cancelled");
            await store.PutAsync(BackgroundEntry(run, answer, "cancelled", null, []), CancellationToken.None);
            run.Cancel();
        }
        // Already finished (or cancelled before): OpenAI answers with the final Response object again.
        http.Response.StatusCode = 200;
        http.Response.ContentType = "application/json";
        http.Response.ContentLength = answer.Length;
        await http.Response.Body.WriteAsync(answer, http.RequestAborted);
    }

    /// <summary>
    /// GET / DELETE / cancel / input_items of a response a provider made natively: sent to the deployment that served it
    /// (its URL and credentials), the client's query string kept; the provider's status and body come back as they are.
    /// True when the provider answered 2xx.
    /// </summary>
    private async Task<bool> ProxyAsync(HttpContext http, StoredResponse stored, HttpMethod method, string? action)
    {
        Deployment? deployment = null;
        foreach (var d in registry.All) if (d.Id == stored.DeploymentId) { deployment = d; break; }
        if (deployment?.Provider is not IResponsesUpstream upstream)
        {
            await ResponseWriter.WriteErrorAsync(http, null, new LlmError { Kind = ErrorKind.NotFound, Message = $"Response with id '{stored.Id}' was made by a deployment this gateway no longer serves." });
            return false;
        }
        using var request = upstream.CreateStoredResponseRequest(deployment, method, stored.Id, action, http.Request.QueryString.Value ?? "");
        var invoker = deployment.Provider.Transport ?? http.RequestServices.GetRequiredKeyedService<HttpMessageInvoker>(Microsoft.Extensions.DependencyInjection.LLMuxServiceCollectionExtensions.TransportKey);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        cts.CancelAfter(deployment.Timeout ?? TimeSpan.FromSeconds(60));
        HttpResponseMessage response;
        try
        {
            response = await invoker.SendAsync(request, cts.Token);
        }
        catch (OperationCanceledException) when (!http.RequestAborted.IsCancellationRequested)
        {
            await ResponseWriter.WriteErrorAsync(http, null, new LlmError { Kind = ErrorKind.Timeout, Provider = deployment.ProviderName, Message = $"{deployment.ProviderName} did not answer about response '{stored.Id}' in time" });
            return false;
        }
        catch (HttpRequestException ex)
        {
            await ResponseWriter.WriteErrorAsync(http, null, new LlmError { Kind = ErrorKind.Unavailable, Provider = deployment.ProviderName, Code = "upstream_unreachable", Message = $"{deployment.ProviderName}: {request.RequestUri?.Host} is unreachable ({ex.Message})" });
            return false;
        }
        using (response)
        {
            http.Response.StatusCode = (int)response.StatusCode;
            if (response.Content.Headers.ContentType is { } type) http.Response.ContentType = type.ToString();
            http.Response.Headers["x-llmux-provider"] = deployment.ProviderName;
            await response.Content.CopyToAsync(http.Response.Body, http.RequestAborted);
            return response.IsSuccessStatusCode;
        }
    }

    /// <summary>An estimate with o200k_base over what the bridge would send; marked <c>x-llmux-token-count: estimate:o200k_base</c>.</summary>
    private async Task InputTokensAsync(HttpContext http)
    {
        var context = pool.Rent();
        PooledBuffer? body = null;
        var chain = new List<JsonDocument>();
        try
        {
            context.RequestAborted = http.RequestAborted;
            if (!await AdmitAsync(http, context, "POST")) return;
            body = await RequestBodyReader.ReadAsync(http.Request, config.MaxRequestBytes, http.RequestAborted);
            using var doc = ResponsesApi.Read(body.Memory, tokenCount: true);
            var root = doc.RootElement;
            var model = context.UseModel(root.GetProperty("model").GetString()!);
            context.Deployment = FirstDeployment(model) ?? throw LlmError.Invalid($"unknown model `{model}`; GET /v1/models lists the models this gateway serves", "model", "model_not_found").ToException();
            var previous = ResponsesRequestReaderPrevious(root);
            var history = previous is null ? [] : await HistoryAsync(Owner(http.Request), previous, chain, http.RequestAborted);
            long tokens;
            var translation = ResponsesApi.ToChatRequest(root, history, context.Deployment);
            try { tokens = ResponsesApi.EstimateInputTokens(translation.Body.Span); }
            finally { translation.Body.Dispose(); }
            http.Response.Headers["x-llmux-token-count"] = "estimate:o200k_base";
            await WriteSmallJsonAsync(http, w =>
            {
                w.WriteString("object"u8, "response.input_tokens"u8);
                w.WriteNumber("input_tokens"u8, tokens);
            });
        }
        catch (LlmException ex)
        {
            await ResponseWriter.WriteErrorAsync(http, context, ex.Error);
        }
        catch (BadHttpRequestException ex)
        {
            await ResponseWriter.WriteErrorAsync(http, context, new LlmError { Kind = ex.StatusCode == 413 ? ErrorKind.PayloadTooLarge : ErrorKind.InvalidRequest, Message = "could not read the request body: " + ex.Message });
        }
        finally
        {
            foreach (var d in chain) d.Dispose();
            body?.Dispose();
            pool.Return(context);
        }
    }

    private static async Task WriteSmallJsonAsync(HttpContext http, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, JsonOut.Options))
        {
            w.WriteStartObject();
            write(w);
            w.WriteEndObject();
        }
        http.Response.StatusCode = 200;
        http.Response.ContentType = "application/json";
        http.Response.ContentLength = buffer.WrittenCount;
        await http.Response.Body.WriteAsync(buffer.WrittenMemory, http.RequestAborted);
    }

    private static Task NotFoundAsync(HttpContext http, string id) => ResponseWriter.WriteErrorAsync(http, null, new LlmError
    {
        Kind = ErrorKind.NotFound,
        Message = $"Response with id '{id}' not found.",
    });

    private async ValueTask<bool> AdmitAsync(HttpContext http, LlmContext context, string method)
    {
        if (!string.Equals(http.Request.Method, method, StringComparison.OrdinalIgnoreCase))
        {
            await ResponseWriter.WriteMethodNotAllowedAsync(http, method, context);
            return false;
        }
        if (!await AuthorizedAsync(http)) return false;
        // Governance stages (model access, limits, budgets, spend) read the caller from the context.
        context.Caller = Admin.RequestAuthenticator.CallerOf(http);
        return true;
    }

    private async ValueTask<bool> AuthorizedAsync(HttpContext http)
    {
        if (authorized(http.Request)) return true;
        await ResponseWriter.WriteErrorAsync(http, null, Admin.RequestAuthenticator.FailureOf(http));
        return false;
    }

    /// <summary>
    /// Whose responses these are: the authenticated caller's scope (a virtual key's hash, or the master key),
    /// else (a gateway without keys) a hash of the presented key — never the key itself.
    /// </summary>
    private string Owner(HttpRequest request)
    {
        // With no gateway key every caller is anonymous: the presented key still keeps callers apart.
        if (Admin.RequestAuthenticator.CallerOf(request.HttpContext) is { } caller && (caller.IsAdmin || caller.KeyHash.Length > 0)) return caller.OwnerScope;
        var key = presentedKey(request);
        if (string.IsNullOrEmpty(key)) return "";
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), hash);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>True when every deployment the name resolves to speaks the Responses API natively.</summary>
    private bool AllNative(string model)
    {
        var name = config.Settings.Router.ModelGroupAlias.TryGetValue(model, out var aliased) ? aliased : model;
        if (registry.Group(name) is not { Count: > 0 } group) return false;
        foreach (var d in group)
            if (d.Provider is not IResponsesUpstream upstream || !upstream.AcceptsResponsesPassthrough(d)) return false;
        return true;
    }

    private Deployment? FirstDeployment(string model)
    {
        var name = config.Settings.Router.ModelGroupAlias.TryGetValue(model, out var aliased) ? aliased : model;
        return registry.Group(name) is { Count: > 0 } group ? group[0] : null;
    }
}

/// <summary>Error codes for Responses error events (shared by the bridge and the passthrough).</summary>
internal static class ResponsesStreamStateCodes
{
    public static string For(LlmError error) => error.Kind switch
    {
        ErrorKind.RateLimit => "rate_limit_exceeded",
        ErrorKind.ContextWindowExceeded => "context_length_exceeded",
        _ => error.Code ?? "server_error",
    };
}
