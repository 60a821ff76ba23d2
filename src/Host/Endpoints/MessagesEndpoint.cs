using System.Text.Json;
using LLMux.Host.Config;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Composition;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;
using LLMux.Providers.Common;
using LLMux.Stages.Messages;

namespace LLMux.Host.Endpoints;

/// <summary>
/// Anthropic's Messages API in front of every provider: <c>POST /v1/messages</c> is validated by Anthropic's
/// rules, translated into an OpenAI chat request and run through the standard pipeline (so every provider's
/// parameter table applies), and the answer or stream is turned back into Anthropic's shape. Errors are
/// written as Anthropic error JSON. Auth: the master key as <c>x-api-key</c> or <c>Authorization: Bearer</c>;
/// <c>anthropic-version</c> and <c>anthropic-beta</c> are accepted.
/// </summary>
internal sealed class MessagesEndpoint(GatewayConfig config, ModelRegistry registry, StageDelegate pipeline, LlmContextPool pool, Func<HttpRequest, bool> authorized)
{
    public void Map(WebApplication app)
    {
        app.Map("/v1/messages", MessagesAsync);
        app.Map("/v1/messages/count_tokens", CountTokensAsync);
    }

    private async Task MessagesAsync(HttpContext http)
    {
        var context = pool.Rent();
        PooledBuffer? body = null;
        PooledBuffer? translated = null;
        try
        {
            context.Mode = LlmMode.Chat;
            context.ClientProtocol = ClientProtocol.Anthropic;
            context.RequestAborted = http.RequestAborted;
            context.CacheControl = http.Request.Headers.CacheControl;
            if (!await AdmitAsync(http, context)) return;
            body = await RequestBodyReader.ReadAsync(http.Request, config.MaxRequestBytes, http.RequestAborted);
            string model;
            IReadOnlyDictionary<string, string>? toolNames = null;
            var passthrough = false;
            using (var doc = MessagesApi.Read(body.Memory))
            {
                var root = doc.RootElement;
                // The caller's model alias applies before the passthrough choice and the translation read the deployment.
                model = context.UseModel(root.GetProperty("model").GetString()!);
                var stream = root.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
                if (AllAcceptPassthrough(model))
                {
                    // Anthropic to Anthropic: the body goes upstream as it is, only `model` rewritten.
                    passthrough = true;
                    context.MessagesPassthrough = true;
                    context.RequestedModel = model;
                    context.IsStream = stream;
                    foreach (var name in ForwardedHeaders)
                        if (http.Request.Headers.TryGetValue(name, out var v)) context.ForwardHeaders.Add(new(name, v.ToString()));
                    // Reasoning another provider signed (the conversation came from elsewhere) cannot go to Anthropic.
                    translated = MessagesApi.WithoutForeignReasoning(body.Span, root, out var thinkingRemoved);
                    if (translated is not null) context.AddWarning("dropped thinking blocks signed by another provider" + (thinkingRemoved ? "; thinking turned off for this turn" : ""));
                }
                else
                {
                    var first = FirstDeployment(model);
                    var translation = MessagesApi.ToChatRequest(root, first, config.Settings.DropParams);
                    translated = translation.Body;
                    toolNames = translation.ToolNames;
                    if (translation.DroppedHints is { } dropped) context.AddWarning("dropped Anthropic-only params: " + string.Join(", ", dropped));
                    context.HintParams = translation.HintParams;
                    if (translation.Warnings is { } adjusted) foreach (var warning in adjusted) context.AddWarning(warning);
                    if (MessagesApi.TakesAnthropicFields(first))
                    {
                        foreach (var name in ForwardedHeaders)
                            if (http.Request.Headers.TryGetValue(name, out var v)) context.ForwardHeaders.Add(new(name, v.ToString()));
                    }
                    else if (http.Request.Headers.TryGetValue("anthropic-beta", out var betas) && betas.ToString().Length > 0)
                    {
                        // Betas unlock Anthropic features; the fields that use them are mapped or dropped above.
                        context.AddWarning($"anthropic-beta not sent to {first?.ProviderName ?? "the provider"}: {betas}");
                    }
                    if (stream) context.StreamTranslatorDecorator = MessagesApi.StreamDecorator(toolNames);
                }
            }
            context.Body = translated?.Memory ?? body.Memory;
            await pipeline(context);
            // After the pipeline: the router clears per-attempt headers before each try.
            if (context.Stream is { } pump)
            {
                await ResponseWriter.WriteStreamAsync(http, context, pump);
            }
            else if (passthrough && context.ResponseBody is { } raw)
            {
                await ResponseWriter.WriteJsonAsync(http, context, raw.Memory);
            }
            else if (context.ResponseBody is { } answer)
            {
                var message = MessagesApi.ToMessage(answer.Span, model, context.ProviderName, toolNames);
                answer.Dispose();
                context.ResponseBody = message;
                await ResponseWriter.WriteJsonAsync(http, context, message.Memory);
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
            await ResponseWriter.WriteErrorAsync(http, context, BodyError(ex));
        }
        finally
        {
            translated?.Dispose();
            body?.Dispose();
            pool.Return(context);
        }
    }

    /// <summary>
    /// Exact where the deployment's provider can count (<see cref="ITokenCountingProvider"/>: Anthropic's count endpoint,
    /// Bedrock CountTokens, Vertex count-tokens for Claude, Gemini countTokens), the o200k estimate elsewhere;
    /// <c>x-llmux-token-count</c> says which (<c>exact:&lt;provider&gt;</c> or <c>estimate:o200k_base</c>).
    /// </summary>
    private async Task CountTokensAsync(HttpContext http)
    {
        var context = pool.Rent();
        PooledBuffer? body = null;
        PooledBuffer? translated = null;
        HttpRequestMessage? upstream = null;
        try
        {
            context.ClientProtocol = ClientProtocol.Anthropic;
            context.RequestAborted = http.RequestAborted;
            if (!await AdmitAsync(http, context)) return;
            body = await RequestBodyReader.ReadAsync(http.Request, config.MaxRequestBytes, http.RequestAborted);
            long tokens;
            string source;
            using (var doc = MessagesApi.Read(body.Memory, countTokens: true))
            {
                var model = context.UseModel(doc.RootElement.GetProperty("model").GetString()!);
                var deployment = FirstDeployment(model) ?? throw UnknownModel(model);
                context.Deployment = deployment;
                context.Body = body.Memory;
                foreach (var name in ForwardedHeaders)
                    if (http.Request.Headers.TryGetValue(name, out var v)) context.ForwardHeaders.Add(new(name, v.ToString()));
                if (deployment.Provider is ITokenCountingProvider counter)
                {
                    if (counter.CountsFromChatRequest(deployment))
                    {
                        // A count request has no max_tokens, which the translation needs; it does not change the input count.
                        var withMax = System.Text.Json.Nodes.JsonNode.Parse(body.Span)!.AsObject();
                        withMax["max_tokens"] ??= 1;
                        using var countDoc = JsonDocument.Parse(withMax.ToJsonString());
                        translated = MessagesApi.ToChatRequest(countDoc.RootElement, deployment).Body;
                        context.Mode = LlmMode.Chat;
                        context.Chat = JsonSerializer.Deserialize(translated.Span, LLMux.Pipeline.Wire.WireJson.Default.ChatRequest);
                    }
                    upstream = counter.CreateCountTokensRequest(context);
                }
                tokens = upstream is null ? MessagesApi.EstimateInputTokens(doc.RootElement) : 0;
                source = upstream is null ? "estimate:o200k_base" : "exact:" + deployment.ProviderName;
            }
            if (upstream is not null) tokens = await CountUpstreamAsync(http, context, upstream);
            var answer = new PooledBuffer(64);
            context.ResponseBody = answer;
            using (var w = new Utf8JsonWriter(answer, JsonOut.Options))
            {
                w.WriteStartObject();
                w.WriteNumber("input_tokens"u8, tokens);
                w.WriteEndObject();
            }
            http.Response.Headers["x-llmux-token-count"] = source;
            await ResponseWriter.WriteJsonAsync(http, context, answer.Memory);
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
            await ResponseWriter.WriteErrorAsync(http, context, BodyError(ex));
        }
        finally
        {
            upstream?.Dispose();
            translated?.Dispose();
            body?.Dispose();
            pool.Return(context);
        }
    }

    /// <summary>Sends the count request (the provider's own transport, else the shared one) under the deployment's timeout.</summary>
    private static async Task<long> CountUpstreamAsync(HttpContext http, LlmContext context, HttpRequestMessage request)
    {
        var deployment = context.Deployment!;
        var provider = deployment.Provider;
        var invoker = provider.Transport ?? http.RequestServices.GetRequiredKeyedService<HttpMessageInvoker>(Microsoft.Extensions.DependencyInjection.LLMuxServiceCollectionExtensions.TransportKey);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        cts.CancelAfter(deployment.Timeout ?? TimeSpan.FromSeconds(60));
        HttpResponseMessage response;
        try
        {
            response = await invoker.SendAsync(request, cts.Token);
        }
        catch (OperationCanceledException) when (!http.RequestAborted.IsCancellationRequested)
        {
            throw new LlmError { Kind = ErrorKind.Timeout, Provider = deployment.ProviderName, Message = $"{deployment.ProviderName} did not answer the token count in time" }.ToException();
        }
        catch (HttpRequestException ex)
        {
            throw new LlmError { Kind = ErrorKind.Unavailable, Provider = deployment.ProviderName, Code = "upstream_unreachable", Message = $"{deployment.ProviderName} token count: {request.RequestUri?.Host} is unreachable ({ex.Message})" }.ToException(ex);
        }
        using (response)
        {
            using var answer = await ResponseBodyReader.ReadAsync(response, deployment.ProviderName, cts.Token);
            if (!response.IsSuccessStatusCode) throw provider.MapError(context, (int)response.StatusCode, answer.Span, response.Headers).ToException();
            return ((ITokenCountingProvider)provider).ReadTokenCount(answer.Span);
        }
    }

    /// <summary>Method and key checks, answered in Anthropic's error shape.</summary>
    private async ValueTask<bool> AdmitAsync(HttpContext http, LlmContext context)
    {
        if (!HttpMethods.IsPost(http.Request.Method))
        {
            await ResponseWriter.WriteMethodNotAllowedAsync(http, "POST", context);
            return false;
        }
        if (!authorized(http.Request))
        {
            await ResponseWriter.WriteErrorAsync(http, context, Admin.RequestAuthenticator.FailureOf(http));
            return false;
        }
        context.Caller = Admin.RequestAuthenticator.CallerOf(http);
        return true;
    }

    private static readonly string[] ForwardedHeaders = ["anthropic-version", "anthropic-beta"];

    /// <summary>True when every deployment the name resolves to speaks the Messages API natively.</summary>
    private bool AllAcceptPassthrough(string model)
    {
        var name = config.Settings.Router.ModelGroupAlias.TryGetValue(model, out var aliased) ? aliased : model;
        if (registry.Group(name) is not { Count: > 0 } group) return false;
        foreach (var d in group)
            if (d.Provider is not IAnthropicMessagesUpstream upstream || !upstream.AcceptsMessagesPassthrough(d)) return false;
        return true;
    }

    /// <summary>The deployment the router is likeliest to pick (the group's first), through model_group_alias as routing resolves it.</summary>
    private Deployment? FirstDeployment(string model)
    {
        var name = config.Settings.Router.ModelGroupAlias.TryGetValue(model, out var aliased) ? aliased : model;
        return registry.Group(name) is { Count: > 0 } group ? group[0] : null;
    }

    private LlmException UnknownModel(string model) => new LlmError
    {
        Kind = ErrorKind.InvalidRequest,
        Message = $"unknown model `{model}`; this gateway serves: {string.Join(", ", registry.Names.Take(20))} (GET /v1/models lists them)",
        Param = "model",
        Code = "model_not_found",
    }.ToException();

    private static LlmError BodyError(BadHttpRequestException ex) => new()
    {
        Kind = ex.StatusCode == 413 ? ErrorKind.PayloadTooLarge : ErrorKind.InvalidRequest,
        Message = "could not read the request body: " + ex.Message,
    };
}
