using System.Text.Json;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Composition;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Wire;

namespace LLMux.Stages;

/// <summary>
/// Checks the call against the provider's spec before any upstream call: the mode must be supported, and
/// every parameter present must be native, mapped, or dropped (with a warning, where drop_params allows it).
/// </summary>
public sealed class CapabilityCheckStage(GatewaySettings settings, Accounting.PriceTable? prices = null) : ILlmStage
{
    /// <summary>Fields that configure the gateway itself; never checked, never forwarded.</summary>
    private static readonly HashSet<string> GatewayFields = [.. GatewayRequestFields.Names, "metadata", "model", "messages", "input"];

    /// <summary>LiteLLM never fails a call over these: a provider without them simply does not get them.</summary>
    private static readonly HashSet<string> NeverFatal = ["stream", "stream_options", "user", "max_retries"];

    public ValueTask InvokeAsync(LlmContext context, StageDelegate next)
    {
        var deployment = context.Deployment!;
        var spec = deployment.Provider.Spec;
        if (context.MessagesPassthrough)
        {
            if (deployment.Provider is Providers.Common.IAnthropicMessagesUpstream upstream && upstream.AcceptsMessagesPassthrough(deployment)) return next(context);
            throw new LlmError
            {
                Kind = ErrorKind.InvalidRequest,
                Message = $"model group `{context.ModelGroup}` mixes Anthropic and {spec.Name} deployments (or falls back to {spec.Name}); /v1/messages forwards Anthropic bodies untranslated to Anthropic groups, so route {spec.Name} through a separate model name",
                Provider = spec.Name,
                Code = "unsupported_route",
            }.ToException();
        }
        if (!spec.Supports(context.Mode))
        {
            throw new LlmError
            {
                Kind = ErrorKind.InvalidRequest,
                Message = $"model `{deployment.ModelName}` is served by {spec.Name}, which does not support {context.Mode.Name()}; route this call to a model whose provider does",
                Param = "model",
                Code = "unsupported_mode",
                Provider = spec.Name,
            }.ToException();
        }

        context.DropParams = (context.Chat?.DropParams ?? context.Embedding?.DropParams ?? context.ModeRequest?.DropParams) ?? deployment.DropParams ?? settings.DropParams;
        var requestExtra = context.Chat?.Extra ?? context.Embedding?.Extra;
        var requestDrops = context.ModeRequest?.AdditionalDropParams ?? RequestList(requestExtra, "additional_drop_params");
        var requestAllowed = context.ModeRequest?.AllowedOpenAIParams ?? RequestList(requestExtra, "allowed_openai_params");
        // One list per thread: the loop below is synchronous and ends before next() is called.
        var present = t_present ??= new List<string>(16);
        present.Clear();
        if (context.Chat is { } chat) CollectChatParams(chat, present);
        else if (context.Embedding is { } emb) CollectEmbeddingParams(emb, present);
        else if (context.ModeRequest is { } mr) present.AddRange(mr.Params);

        foreach (var param in present)
        {
            if (GatewayFields.Contains(param)) continue;
            if (Contains(deployment.AdditionalDropParams, param) || Contains(requestDrops, param)) { context.AddDroppedParam(param); continue; }
            if (Contains(deployment.AllowedOpenAIParams, param) || Contains(requestAllowed, param)) continue;
            var rule = spec.RuleFor(context.Mode, param);
            switch (rule.Kind)
            {
                case ParamSupportKind.Native:
                case ParamSupportKind.Mapped:
                    break;
                case ParamSupportKind.Rejected:
                    if (context.IsHint(param)) { context.AddDroppedParam(param); break; }
                    throw new LlmError
                    {
                        Kind = ErrorKind.UnsupportedParam,
                        Message = $"parameter `{param}` cannot be used with {spec.Name}: {rule.Note ?? "it has no equivalent there"}; remove it",
                        Param = param,
                        Code = "unsupported_parameter",
                        Provider = spec.Name,
                    }.ToException();
                default:
                    if (spec.ForwardsUnknownFields && !IsOpenAIParam(param) && !ModeParamNames.Contains(context.Mode, param)) break; // provider-specific extras pass through to compatible servers
                    if (context.DropParams || NeverFatal.Contains(param) || context.IsHint(param) || (param == "n" && context.Chat?.N == 1))
                    {
                        context.AddDroppedParam(param);
                        break;
                    }
                    throw new LlmError
                    {
                        Kind = ErrorKind.UnsupportedParam,
                        Message = $"parameter `{param}` is not supported by {spec.Name}; remove it, or set drop_params: true (request body, litellm_params, or litellm_settings) to drop it with a warning",
                        Param = param,
                        Code = "unsupported_parameter",
                        Provider = spec.Name,
                    }.ToException();
            }
        }
        CheckMaxOutputTokens(context, deployment);
        return next(context);
    }

    [ThreadStatic] private static List<string>? t_present;

    /// <summary>LiteLLM refuses a max_tokens above the model's max_output_tokens (model price table) before calling it.</summary>
    private void CheckMaxOutputTokens(LlmContext context, Deployment deployment)
    {
        if (context.Chat is not { } chat) return;
        var (param, asked) = chat.MaxCompletionTokens is { } mct && !context.IsDropped("max_completion_tokens") ? ("max_completion_tokens", mct)
            : chat.MaxTokens is { } mt && !context.IsDropped("max_tokens") ? ("max_tokens", mt) : ("", 0);
        if (asked == 0) return;
        var price = (prices ?? Accounting.PriceTable.Default).Find(deployment.ProviderName, deployment.UpstreamModel);
        if (price?.MaxOutputTokens is not { } limit || limit <= 0 || asked <= limit) return;
        throw new LlmError
        {
            Kind = ErrorKind.InvalidRequest,
            Message = $"`{param}` is {asked}, but {deployment.ProviderName}/{deployment.UpstreamModel} can write at most {limit} output tokens (max_output_tokens in the model price table); lower `{param}` to {limit} or less",
            Param = param,
            Code = "max_tokens_exceeded",
            Provider = deployment.ProviderName,
        }.ToException();
    }

    /// <summary>A per-request list (<c>additional_drop_params</c>, <c>allowed_openai_params</c>) from the body; LiteLLM takes both per request.</summary>
    private static IReadOnlyList<string> RequestList(Dictionary<string, JsonElement>? extra, string name)
    {
        if (extra is null || !extra.TryGetValue(name, out var v) || v.ValueKind != JsonValueKind.Array) return [];
        var list = new List<string>(v.GetArrayLength());
        foreach (var e in v.EnumerateArray()) if (e.ValueKind == JsonValueKind.String) list.Add(e.GetString()!);
        return list;
    }

    private static bool Contains(IReadOnlyList<string> list, string value)
    {
        for (var i = 0; i < list.Count; i++) if (list[i] == value) return true;
        return false;
    }

    private static readonly HashSet<string> OpenAIParams =
    [
        "frequency_penalty", "logit_bias", "logprobs", "top_logprobs", "max_tokens", "max_completion_tokens", "modalities",
        "prediction", "n", "presence_penalty", "seed", "stop", "stream", "stream_options", "temperature", "top_p", "tools",
        "tool_choice", "function_call", "functions", "max_retries", "extra_headers", "parallel_tool_calls", "audio",
        "web_search_options", "service_tier", "safety_identifier", "prompt_cache_key", "prompt_cache_retention", "store",
        "response_format", "user", "reasoning_effort", "verbosity", "thinking", "dimensions", "encoding_format",
    ];

    private static bool IsOpenAIParam(string p) => OpenAIParams.Contains(p);

    /// <summary>The parameters the client actually set (LiteLLM's "non-default" params).</summary>
    internal static void CollectChatParams(ChatRequest r, List<string> into)
    {
        if (r.Stream is not null) into.Add("stream");
        if (r.StreamOptions is not null) into.Add("stream_options");
        if (r.Temperature is not null) into.Add("temperature");
        if (r.TopP is not null) into.Add("top_p");
        if (r.N is not null) into.Add("n");
        if (r.MaxTokens is not null) into.Add("max_tokens");
        if (r.MaxCompletionTokens is not null) into.Add("max_completion_tokens");
        if (IsSet(r.Stop)) into.Add("stop");
        if (r.PresencePenalty is not null) into.Add("presence_penalty");
        if (r.FrequencyPenalty is not null) into.Add("frequency_penalty");
        if (IsSet(r.LogitBias)) into.Add("logit_bias");
        if (r.Logprobs is not null) into.Add("logprobs");
        if (r.TopLogprobs is not null) into.Add("top_logprobs");
        if (r.Seed is not null) into.Add("seed");
        if (r.User is not null) into.Add("user");
        if (r.Tools is { Count: > 0 }) into.Add("tools");
        if (IsSet(r.ToolChoice)) into.Add("tool_choice");
        if (r.ParallelToolCalls is not null) into.Add("parallel_tool_calls");
        if (IsSet(r.ResponseFormat)) into.Add("response_format");
        if (r.ReasoningEffort is not null) into.Add("reasoning_effort");
        if (IsSet(r.Functions)) into.Add("functions");
        if (IsSet(r.FunctionCall)) into.Add("function_call");
        if (r.Extra is { } extra)
        {
            foreach (var (key, value) in extra)
                if (value.ValueKind != JsonValueKind.Null) into.Add(key);
        }
    }

    internal static void CollectEmbeddingParams(EmbeddingRequest r, List<string> into)
    {
        if (r.EncodingFormat is not null) into.Add("encoding_format");
        if (r.Dimensions is not null) into.Add("dimensions");
        if (r.User is not null) into.Add("user");
        if (r.Extra is { } extra)
        {
            foreach (var (key, value) in extra)
                if (value.ValueKind != JsonValueKind.Null) into.Add(key);
        }
    }

    private static bool IsSet(JsonElement? e) => e is { } v && v.ValueKind != JsonValueKind.Null;
}
