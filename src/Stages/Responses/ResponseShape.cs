using System.Text.Json;
using LLMux.Pipeline.Wire;

namespace LLMux.Stages.Responses;

/// <summary>
/// The parts of a Response object that do not come from the model: the id (one for the whole stream), the
/// creation time and the echo of the request fields, in OpenAI's order. Values are cloned from the request
/// once; every Response object of the call (created, in_progress, completed, the stored copy) is written from it.
/// </summary>
public sealed class ResponseShape
{
    private readonly JsonElement _request;

    internal ResponseShape(JsonElement request, string id, long createdAt)
    {
        _request = request.Clone();
        Id = id;
        CreatedAt = createdAt;
        Model = request.GetProperty("model").GetString()!;
        Store = !(request.TryGetProperty("store", out var s) && s.ValueKind == JsonValueKind.False);
        IncludeEncrypted = Includes(request, "reasoning.encrypted_content");
        PreviousResponseId = ResponsesRequestReader.Str(request, "previous_response_id");
        Background = request.TryGetProperty("background", out var b) && b.ValueKind == JsonValueKind.True;
    }

    /// <summary>Run in the background (<c>background: true</c>): answered at once as <c>queued</c>, polled with GET.</summary>
    public bool Background { get; }

    public string Id { get; }
    public long CreatedAt { get; }
    /// <summary>The model the client asked for; the answer's model replaces it when known.</summary>
    public string Model { get; }
    public bool Store { get; }
    public bool IncludeEncrypted { get; }
    public string? PreviousResponseId { get; }

    private static bool Includes(JsonElement request, string what)
    {
        if (!request.TryGetProperty("include", out var include) || include.ValueKind != JsonValueKind.Array) return false;
        foreach (var v in include.EnumerateArray()) if (v.ValueKind == JsonValueKind.String && v.ValueEquals(what)) return true;
        return false;
    }

    /// <summary>Writes the fields before <c>output</c>; the writer is inside the Response object.</summary>
    public void WriteHead(Utf8JsonWriter w, string status, string? model, string? incompleteReason, (string Code, string Message)? error)
    {
        w.WriteString("id"u8, Id);
        w.WriteString("object"u8, "response"u8);
        w.WriteNumber("created_at"u8, CreatedAt);
        w.WriteString("status"u8, status);
        w.WriteBoolean("background"u8, Background);
        if (error is { } e)
        {
            w.WriteStartObject("error"u8);
            w.WriteString("code"u8, e.Code);
            w.WriteString("message"u8, e.Message);
            w.WriteEndObject();
        }
        else w.WriteNull("error"u8);
        if (incompleteReason is not null)
        {
            w.WriteStartObject("incomplete_details"u8);
            w.WriteString("reason"u8, incompleteReason);
            w.WriteEndObject();
        }
        else w.WriteNull("incomplete_details"u8);
        Echo(w, "instructions"u8, "instructions");
        Echo(w, "max_output_tokens"u8, "max_output_tokens");
        Echo(w, "max_tool_calls"u8, "max_tool_calls");
        w.WriteString("model"u8, string.IsNullOrEmpty(model) ? Model : model);
    }

    /// <summary>Writes the fields after <c>output</c>, usage included (null while the response is in progress).</summary>
    public void WriteTail(Utf8JsonWriter w, Usage? usage)
    {
        if (_request.TryGetProperty("parallel_tool_calls", out var ptc) && ptc.ValueKind is JsonValueKind.True or JsonValueKind.False) w.WriteBoolean("parallel_tool_calls"u8, ptc.ValueKind == JsonValueKind.True);
        else w.WriteBoolean("parallel_tool_calls"u8, true);
        if (PreviousResponseId is null) w.WriteNull("previous_response_id"u8);
        else w.WriteString("previous_response_id"u8, PreviousResponseId);
        Echo(w, "prompt_cache_key"u8, "prompt_cache_key");
        w.WriteStartObject("reasoning"u8);
        if (_request.TryGetProperty("reasoning", out var r) && r.ValueKind == JsonValueKind.Object)
        {
            w.WritePropertyName("effort"u8);
            if (r.TryGetProperty("effort", out var effort)) effort.WriteTo(w); else w.WriteNullValue();
            w.WritePropertyName("summary"u8);
            if (r.TryGetProperty("summary", out var summary)) summary.WriteTo(w); else w.WriteNullValue();
        }
        else
        {
            w.WriteNull("effort"u8);
            w.WriteNull("summary"u8);
        }
        w.WriteEndObject();
        Echo(w, "safety_identifier"u8, "safety_identifier");
        if (_request.TryGetProperty("service_tier", out var tier) && tier.ValueKind == JsonValueKind.String) { w.WritePropertyName("service_tier"u8); tier.WriteTo(w); }
        else w.WriteString("service_tier"u8, "default"u8);
        w.WriteBoolean("store"u8, Store);
        EchoOr(w, "temperature"u8, "temperature", 1);
        w.WritePropertyName("text"u8);
        if (_request.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.Object && text.TryGetProperty("format", out _)) text.WriteTo(w);
        else
        {
            w.WriteStartObject();
            w.WriteStartObject("format"u8);
            w.WriteString("type"u8, "text"u8);
            w.WriteEndObject();
            if (text.ValueKind == JsonValueKind.Object && text.TryGetProperty("verbosity", out var v)) { w.WritePropertyName("verbosity"u8); v.WriteTo(w); }
            else w.WriteString("verbosity"u8, "medium"u8);
            w.WriteEndObject();
        }
        w.WritePropertyName("tool_choice"u8);
        if (_request.TryGetProperty("tool_choice", out var tc) && tc.ValueKind != JsonValueKind.Null) tc.WriteTo(w);
        else w.WriteStringValue("auto"u8);
        w.WritePropertyName("tools"u8);
        if (_request.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array) tools.WriteTo(w);
        else { w.WriteStartArray(); w.WriteEndArray(); }
        EchoOr(w, "top_logprobs"u8, "top_logprobs", 0);
        EchoOr(w, "top_p"u8, "top_p", 1);
        if (_request.TryGetProperty("truncation", out var tr) && tr.ValueKind == JsonValueKind.String) { w.WritePropertyName("truncation"u8); tr.WriteTo(w); }
        else w.WriteString("truncation"u8, "disabled"u8);
        if (usage is null) w.WriteNull("usage"u8);
        else WriteUsage(w, usage);
        Echo(w, "user"u8, "user");
        w.WritePropertyName("metadata"u8);
        if (_request.TryGetProperty("metadata", out var md) && md.ValueKind == JsonValueKind.Object) md.WriteTo(w);
        else { w.WriteStartObject(); w.WriteEndObject(); }
    }

    /// <summary>Responses usage: input/output/total with cached and reasoning details (Codex needs the three totals).</summary>
    internal static void WriteUsage(Utf8JsonWriter w, Usage usage)
    {
        w.WriteStartObject("usage"u8);
        w.WriteNumber("input_tokens"u8, usage.PromptTokens);
        w.WriteStartObject("input_tokens_details"u8);
        w.WriteNumber("cached_tokens"u8, usage.CachedTokens);
        w.WriteEndObject();
        w.WriteNumber("output_tokens"u8, usage.CompletionTokens);
        w.WriteStartObject("output_tokens_details"u8);
        w.WriteNumber("reasoning_tokens"u8, usage.ReasoningTokens);
        w.WriteEndObject();
        w.WriteNumber("total_tokens"u8, usage.TotalTokens > 0 ? usage.TotalTokens : usage.PromptTokens + usage.CompletionTokens);
        w.WriteEndObject();
    }

    private void Echo(Utf8JsonWriter w, ReadOnlySpan<byte> name, string field)
    {
        w.WritePropertyName(name);
        if (_request.TryGetProperty(field, out var v)) v.WriteTo(w);
        else w.WriteNullValue();
    }

    private void EchoOr(Utf8JsonWriter w, ReadOnlySpan<byte> name, string field, double fallback)
    {
        w.WritePropertyName(name);
        if (_request.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.Number) v.WriteTo(w);
        else w.WriteNumberValue(fallback);
    }
}
