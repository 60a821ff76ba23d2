using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Json;

namespace LLMux.Stages.Completions;

/// <summary>
/// Builds one <c>text_completion</c> object from the chat-shaped answers of a bridged or FIM completions call: one
/// answer per prompt, its choices at <c>prompt × n + choice</c> (OpenAI's order), usage summed.
/// </summary>
internal sealed class TextCompletionAssembler(int n)
{
    private readonly List<(int Index, string Text, string? Finish)> _choices = [];
    private string? _id;
    private long _created;
    private string? _model;
    private long _prompt, _completion;
    private bool _usage;

    /// <summary>Adds the answer to prompt <paramref name="promptIndex"/> (an OpenAI chat completion).</summary>
    public void Add(int promptIndex, ReadOnlySpan<byte> chatCompletion)
    {
        using var doc = JsonDocument.Parse(chatCompletion.ToArray());
        var root = doc.RootElement;
        _id ??= root.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;
        if (_created == 0 && root.TryGetProperty("created", out var c) && c.TryGetInt64(out var created)) _created = created;
        _model ??= root.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
        if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array)
        {
            foreach (var choice in choices.EnumerateArray())
            {
                var index = choice.TryGetProperty("index", out var i) && i.TryGetInt32(out var ci) ? ci : 0;
                var text = choice.TryGetProperty("message", out var msg) && msg.ValueKind == JsonValueKind.Object
                    && msg.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String ? content.GetString()! : "";
                var finish = choice.TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
                _choices.Add((promptIndex * n + index, text, finish == "tool_calls" ? "stop" : finish));
            }
        }
        if (root.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object)
        {
            _usage = true;
            if (u.TryGetProperty("prompt_tokens", out var pt) && pt.TryGetInt64(out var p)) _prompt += p;
            if (u.TryGetProperty("completion_tokens", out var ct) && ct.TryGetInt64(out var q)) _completion += q;
        }
    }

    public PooledBuffer Write(string fallbackModel, long now)
    {
        _choices.Sort(static (a, b) => a.Index.CompareTo(b.Index));
        var buffer = new PooledBuffer(512 + 64 * _choices.Count);
        using var w = new Utf8JsonWriter(buffer, JsonOut.Options);
        w.WriteStartObject();
        w.WriteString("id"u8, TextCompletionIds.From(_id));
        w.WriteString("object"u8, "text_completion"u8);
        w.WriteNumber("created"u8, _created == 0 ? now : _created);
        w.WriteString("model"u8, _model ?? fallbackModel);
        w.WriteStartArray("choices"u8);
        foreach (var (index, text, finish) in _choices)
        {
            w.WriteStartObject();
            w.WriteString("text"u8, text);
            w.WriteNumber("index"u8, index);
            w.WriteNull("logprobs"u8);
            if (finish is null) w.WriteNull("finish_reason"u8);
            else w.WriteString("finish_reason"u8, finish);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        if (_usage)
        {
            w.WriteStartObject("usage"u8);
            w.WriteNumber("prompt_tokens"u8, _prompt);
            w.WriteNumber("completion_tokens"u8, _completion);
            w.WriteNumber("total_tokens"u8, _prompt + _completion);
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.Flush();
        return buffer;
    }
}

/// <summary>Text-completion ids: <c>cmpl-</c> and the upstream answer's own id (its <c>chatcmpl-</c> prefix swapped), else a fresh one.</summary>
internal static class TextCompletionIds
{
    public static string From(string? upstreamId) => upstreamId switch
    {
        null or "" => "cmpl-" + Guid.NewGuid().ToString("N"),
        _ when upstreamId.StartsWith("cmpl-", StringComparison.Ordinal) => upstreamId,
        _ when upstreamId.StartsWith("chatcmpl-", StringComparison.Ordinal) => "cmpl-" + upstreamId["chatcmpl-".Length..],
        _ => "cmpl-" + upstreamId,
    };
}
