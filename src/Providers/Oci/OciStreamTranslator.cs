using System.Buffers;
using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Streaming;
using LLMux.Pipeline.Streaming.Decoders;
using LLMux.Providers.Common;

namespace LLMux.Providers.Oci;

/// <summary>
/// OCI's streamed chat: SSE whose <c>data</c> is one event per frame and no <c>[DONE]</c>. GENERIC events carry
/// <c>message.content[].text</c> and <c>message.toolCalls</c>, the last one <c>finishReason</c>, then (asked for with
/// <c>streamOptions.isIncludeUsage</c>) one with <c>usage</c>; COHERE events carry <c>text</c> and the last one
/// <c>finishReason</c>. Each becomes OpenAI chunks; a stream that ends before its finish reason is an error.
/// </summary>
internal sealed class OciStreamTranslator(LlmContext context) : SseStreamTranslator
{
    private readonly OpenAIChunkWriter _writer = new(
        "chatcmpl-" + Guid.NewGuid().ToString("N"),
        context.Deployment?.UpstreamModel ?? "",
        context.TimeProvider.GetUtcNow().ToUnixTimeSeconds(),
        includeUsage: context.Chat!.IncludeUsage,
        context);

    private string? _finish;
    private bool _usageWritten;
    private readonly Dictionary<string, int> _toolIndexes = new(StringComparer.Ordinal);

    protected override void OnEvent(in SseFrame frame, IBufferWriter<byte> output)
    {
        if (frame.Data.IsEmpty || frame.DataIs("[DONE]"u8)) return;
        var reader = new Utf8JsonReader(frame.Data);
        var e = JsonSerializer.Deserialize(ref reader, OciJson.Default.OciStreamEvent)
            ?? throw new JsonException("oci stream event is null");
        if (e.ApiFormat == "COHERE")
        {
            if (e.Text is { Length: > 0 } text) { _writer.Text(output, text); ContentStarted = true; }
            if (e.ToolCalls is { Count: > 0 } cohereCalls)
            {
                foreach (var c in cohereCalls) _writer.ToolCallStart(output, null, c.Name, c.Parameters?.GetRawText() ?? "{}");
                ContentStarted = true;
            }
        }
        else if (e.Message is { } message)
        {
            if (OciAnswers.Text(message.Content) is { Length: > 0 } text) { _writer.Text(output, text); ContentStarted = true; }
            if (message.ToolCalls is { Count: > 0 } calls)
            {
                foreach (var c in calls) ToolCall(output, c);
                ContentStarted = true;
            }
        }
        if (e.FinishReason is { } finish && _finish is null)
        {
            _finish = OciAnswers.FinishReason(finish);
            _writer.Finish(output, _writer.SawToolCall ? "tool_calls" : _finish);
            ContentStarted = true;
        }
        if (e.Usage is { } usage && !_usageWritten)
        {
            _usageWritten = true;
            var u = OciAnswers.Usage(usage)!;
            context.Usage = u;
            _writer.Usage(output, u);
        }
    }

    /// <summary>OCI streams a call's id and name first and its arguments in later events naming the same id (or none).</summary>
    private void ToolCall(IBufferWriter<byte> output, OciToolCall call)
    {
        var key = call.Id ?? "";
        if (call.Name is { Length: > 0 } name && (call.Id is null || !_toolIndexes.ContainsKey(key)))
        {
            var index = _writer.ToolCallStart(output, call.Id, name, call.Arguments ?? "");
            _toolIndexes[key] = index;
            _toolIndexes[""] = index;
            return;
        }
        if (call.Arguments is { Length: > 0 } args && _toolIndexes.TryGetValue(key, out var existing)) _writer.ToolCallArguments(output, existing, args);
    }

    protected override void OnEnd(IBufferWriter<byte> output)
    {
        if (_finish is null)
        {
            throw new LlmError
            {
                Kind = ErrorKind.BadGateway,
                Provider = OciSpec.Name,
                Message = $"{OciSpec.Name} stream ended before its finishReason; the answer is incomplete",
            }.ToException();
        }
        OpenAIChunkWriter.Done(output);
    }
}
