using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Stages.Accounting;

namespace LLMux.Host.Endpoints;

/// <summary>
/// <c>GET /v1/models</c>: each public model name with what the price table knows about the model its first
/// deployment serves (context window, output limit, capabilities), so that clients need no side file. OpenAI's
/// list shape with those fields added; Anthropic's shape (Models API, with <c>max_input_tokens</c>,
/// <c>max_tokens</c> and <c>capabilities</c>) when the caller sends <c>anthropic-version</c>.
/// </summary>
internal static class ModelListWriter
{
    /// <summary>The fixed creation time every entry reports (LLMux does not know when a model was made).</summary>
    private const long Created = 1677610602;
    private const string CreatedAt = "2023-02-28T18:56:42Z";

    public static ModelPrice? PriceOf(ModelRegistry registry, string name) =>
        registry.Group(name) is { Count: > 0 } group ? PriceTable.Default.Find(group[0].ProviderName, group[0].UpstreamModel) : null;

    /// <summary>The model names the caller may call (all of them when <paramref name="visible"/> is null), in the registry's order.</summary>
    public static IReadOnlyList<string> Names(ModelRegistry registry, Func<string, bool>? visible)
    {
        if (visible is null) return registry.Names;
        var names = new List<string>(registry.Names.Count);
        foreach (var n in registry.Names) if (visible(n)) names.Add(n);
        return names;
    }

    /// <summary>
    /// The listed names, each with the model group that describes it: the registry's names, then the caller's model
    /// aliases (<paramref name="aliases"/>: alias → the group it routes to) whose names the registry does not have.
    /// </summary>
    public static List<KeyValuePair<string, string>> Entries(ModelRegistry registry, Func<string, bool>? visible, IReadOnlyList<KeyValuePair<string, string>>? aliases)
    {
        var names = Names(registry, visible);
        var list = new List<KeyValuePair<string, string>>(names.Count + (aliases?.Count ?? 0));
        foreach (var n in names) list.Add(new(n, n));
        if (aliases is null) return list;
        foreach (var a in aliases)
            if (registry.Group(a.Key) is not { Count: > 0 }) list.Add(a);
        return list;
    }

    public static void WriteOpenAI(Utf8JsonWriter w, ModelRegistry registry, Func<string, bool>? visible = null, IReadOnlyList<KeyValuePair<string, string>>? aliases = null)
    {
        w.WriteStartObject();
        w.WriteString("object"u8, "list"u8);
        w.WriteStartArray("data"u8);
        foreach (var (name, group) in Entries(registry, visible, aliases))
        {
            if (name != group) WriteOpenAIModel(w, registry, name, group, PriceOf(registry, group));
            else if (!WriteWildcardModels(w, registry, name)) WriteOpenAIModel(w, registry, name);
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>
    /// A provider wildcard (<c>novita/*</c> serving <c>novita/*</c>) lists the price table's chat and embedding models of
    /// that provider, as LiteLLM's proxy lists a wildcard route; false when the name is no wildcard or the table knows none.
    /// </summary>
    private static bool WriteWildcardModels(Utf8JsonWriter w, ModelRegistry registry, string name)
    {
        if (!name.EndsWith("/*", StringComparison.Ordinal) || registry.Group(name) is not { Count: > 0 } group || group[0].UpstreamModel != "*") return false;
        var provider = group[0].ProviderName;
        var prefix = name[..^1];
        var ids = new SortedDictionary<string, ModelPrice>(StringComparer.Ordinal);
        foreach (var (key, price) in PriceTable.Default.Entries)
        {
            if (price.Provider != provider || price.Mode is not ("chat" or "embedding")) continue;
            var model = key.StartsWith(provider + "/", StringComparison.Ordinal) ? key[(provider.Length + 1)..] : key;
            ids.TryAdd(prefix + model, price);
        }
        if (ids.Count == 0) return false;
        foreach (var (id, price) in ids) WriteOpenAIModel(w, registry, id, id, price);
        return true;
    }

    /// <summary>One entry: <paramref name="name"/> as listed, described by the model group <paramref name="group"/> (the same name, or an alias's target).</summary>
    public static void WriteOpenAIModel(Utf8JsonWriter w, ModelRegistry registry, string name, string? group = null) => WriteOpenAIModel(w, registry, name, group ?? name, PriceOf(registry, group ?? name));

    private static void WriteOpenAIModel(Utf8JsonWriter w, ModelRegistry registry, string name, string describes, ModelPrice? price)
    {
        w.WriteStartObject();
        w.WriteString("id"u8, name);
        w.WriteString("object"u8, "model"u8);
        w.WriteNumber("created"u8, Created);
        w.WriteString("owned_by"u8, "llmux"u8);
        if (registry.Group(describes) is { Count: > 0 } group) w.WriteString("provider"u8, group[0].ProviderName);
        if (price is not null)
        {
            if (price.MaxInputTokens is { } input)
            {
                w.WriteNumber("context_window"u8, input);
                w.WriteNumber("max_input_tokens"u8, input);
            }
            if (price.MaxOutputTokens is { } output) w.WriteNumber("max_output_tokens"u8, output);
            if (price.Mode is { } mode) w.WriteString("mode"u8, mode);
            w.WriteStartArray("capabilities"u8);
            foreach (var s in price.Supports) w.WriteStringValue(s);
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    /// <summary>Anthropic's page: <c>limit</c> (1–1000, default 20), <c>after_id</c> / <c>before_id</c> cursors, <c>has_more</c>.</summary>
    public static void WriteAnthropic(Utf8JsonWriter w, ModelRegistry registry, int limit, string? afterId, string? beforeId, Func<string, bool>? visible = null, IReadOnlyList<KeyValuePair<string, string>>? aliases = null)
    {
        var names = Entries(registry, visible, aliases);
        var start = 0;
        var end = names.Count;
        if (afterId is not null && IndexOf(names, afterId) is var a and >= 0) start = a + 1;
        if (beforeId is not null && IndexOf(names, beforeId) is var b and >= 0)
        {
            end = b;
            start = Math.Max(0, end - limit);
        }
        var stop = Math.Min(end, start + limit);
        w.WriteStartObject();
        w.WriteStartArray("data"u8);
        for (var i = start; i < stop; i++) WriteAnthropicModel(w, registry, names[i].Key, names[i].Value);
        w.WriteEndArray();
        w.WriteBoolean("has_more"u8, beforeId is not null ? start > 0 : stop < end);
        if (stop > start)
        {
            w.WriteString("first_id"u8, names[start].Key);
            w.WriteString("last_id"u8, names[stop - 1].Key);
        }
        else
        {
            w.WriteNull("first_id"u8);
            w.WriteNull("last_id"u8);
        }
        w.WriteEndObject();
    }

    public static void WriteAnthropicModel(Utf8JsonWriter w, ModelRegistry registry, string name, string? describes = null)
    {
        describes ??= name;
        var price = PriceOf(registry, describes);
        var first = registry.Group(describes) is { Count: > 0 } group ? group[0] : null;
        // Anthropic's own fields (context management, citations, server tools) work where the body reaches Claude as it is.
        var anthropicBody = first is not null && LLMux.Stages.Messages.MessagesApi.TakesAnthropicFields(first);
        var reasoning = price?.Has("reasoning") == true;
        w.WriteStartObject();
        w.WriteString("type"u8, "model"u8);
        w.WriteString("id"u8, name);
        w.WriteString("display_name"u8, name);
        w.WriteString("created_at"u8, CreatedAt);
        if (price?.MaxInputTokens is { } input) w.WriteNumber("max_input_tokens"u8, input);
        if (price?.MaxOutputTokens is { } output) w.WriteNumber("max_tokens"u8, output);
        if (price is not null)
        {
            w.WriteStartObject("capabilities"u8);
            Support(w, "batch"u8, false);
            Support(w, "citations"u8, anthropicBody);
            Support(w, "code_execution"u8, anthropicBody);
            w.WriteStartObject("context_management"u8);
            w.WriteBoolean("supported"u8, anthropicBody);
            Support(w, "clear_thinking_20251015"u8, anthropicBody);
            Support(w, "clear_tool_uses_20250919"u8, anthropicBody);
            Support(w, "compact_20260112"u8, anthropicBody);
            w.WriteEndObject();
            w.WriteStartObject("effort"u8);
            w.WriteBoolean("supported"u8, reasoning);
            Support(w, "low"u8, reasoning);
            Support(w, "medium"u8, reasoning);
            Support(w, "high"u8, reasoning);
            Support(w, "max"u8, reasoning && anthropicBody);
            Support(w, "xhigh"u8, false);
            w.WriteEndObject();
            Support(w, "image_input"u8, price.Has("vision"));
            Support(w, "pdf_input"u8, price.Has("pdf_input"));
            w.WriteStartObject("server_tools"u8);
            w.WriteBoolean("supported"u8, anthropicBody || price.Has("web_search"));
            Support(w, "code_execution"u8, anthropicBody);
            Support(w, "web_search"u8, anthropicBody || price.Has("web_search"));
            w.WriteEndObject();
            Support(w, "structured_outputs"u8, price.Has("response_schema"));
            w.WriteStartObject("thinking"u8);
            w.WriteBoolean("supported"u8, reasoning);
            w.WriteStartObject("types"u8);
            Support(w, "adaptive"u8, reasoning);
            Support(w, "between_tools"u8, reasoning && anthropicBody);
            Support(w, "disabled"u8, true);
            Support(w, "enabled"u8, reasoning);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    private static void Support(Utf8JsonWriter w, ReadOnlySpan<byte> name, bool supported)
    {
        w.WriteStartObject(name);
        w.WriteBoolean("supported"u8, supported);
        w.WriteEndObject();
    }

    private static int IndexOf(List<KeyValuePair<string, string>> names, string id)
    {
        for (var i = 0; i < names.Count; i++) if (names[i].Key == id) return i;
        return -1;
    }

    /// <summary>
    /// LiteLLM's <c>GET /model/info</c>: one entry per deployment the caller may call, with its <c>litellm_params</c>
    /// (never its keys or other secrets) and what the price table knows in <c>model_info</c>.
    /// </summary>
    public static void WriteModelInfo(Utf8JsonWriter w, ModelRegistry registry, Func<string, bool>? visible, IReadOnlyList<KeyValuePair<string, string>>? aliases = null)
    {
        w.WriteStartObject();
        w.WriteStartArray("data"u8);
        foreach (var (name, group) in Entries(registry, visible, aliases))
        {
            foreach (var d in registry.Group(group) ?? [])
            {
                var price = PriceTable.Default.Find(d.ProviderName, d.UpstreamModel);
                w.WriteStartObject();
                w.WriteString("model_name"u8, name);
                w.WriteStartObject("litellm_params"u8);
                w.WriteString("model"u8, d.Model);
                if (d.ApiBase is { } apiBase) w.WriteString("api_base"u8, apiBase);
                w.WriteEndObject();
                w.WriteStartObject("model_info"u8);
                w.WriteString("id"u8, d.Id);
                w.WriteBoolean("db_model"u8, false);
                w.WriteString("litellm_provider"u8, d.ProviderName);
                w.WriteString("key"u8, d.UpstreamModel);
                if (price is not null)
                {
                    if (price.MaxInputTokens is { } input) w.WriteNumber("max_input_tokens"u8, input);
                    if (price.MaxOutputTokens is { } output) { w.WriteNumber("max_output_tokens"u8, output); w.WriteNumber("max_tokens"u8, output); }
                    w.WriteNumber("input_cost_per_token"u8, price.InputPerToken);
                    w.WriteNumber("output_cost_per_token"u8, price.OutputPerToken);
                    if (price.Mode is { } mode) w.WriteString("mode"u8, mode);
                    foreach (var flag in price.Supports) w.WriteBoolean("supports_" + flag, true);
                }
                w.WriteEndObject();
                w.WriteEndObject();
            }
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }
}
