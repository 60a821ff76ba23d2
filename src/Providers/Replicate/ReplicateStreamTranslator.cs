using System.Buffers;
using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Streaming;
using LLMux.Pipeline.Streaming.Decoders;
using LLMux.Providers.Common;

namespace LLMux.Providers.Replicate;

/// <summary>
/// A prediction's <c>urls.stream</c>: SSE with <c>event: output</c> (the data is raw text; a newline in the output is a
/// second <c>data:</c> line), <c>event: done</c> (data <c>{}</c>, or <c>{"reason":"canceled"|"error"}</c>) and
/// <c>event: error</c> (<c>{"detail"}</c>), then LLMux's own <c>event: metrics</c> with the token counts. Output becomes
/// OpenAI content chunks; the finish, usage and <c>[DONE]</c> follow once the stream ends after <c>done</c>.
/// </summary>
internal sealed class ReplicateStreamTranslator(LlmContext context) : SseStreamTranslator
{
    private readonly OpenAIChunkWriter _writer = new(
        "chatcmpl-" + Guid.NewGuid().ToString("N"),
        context.Deployment?.UpstreamModel ?? "",
        context.TimeProvider.GetUtcNow().ToUnixTimeSeconds(),
        includeUsage: context.Chat!.IncludeUsage,
        context);

    private bool _done;
    private ReplicateMetrics? _metrics;

    protected override void OnEvent(in SseFrame frame, IBufferWriter<byte> output)
    {
        if (frame.EventTypeIs("output"u8))
        {
            if (_done || frame.Data.IsEmpty) return;
            _writer.Text(output, frame.Data.IsSingleSegment ? frame.Data.FirstSpan : frame.Data.ToArray());
            ContentStarted = true;
        }
        else if (frame.EventTypeIs("done"u8))
        {
            var reason = Reason(frame.Data);
            if (reason is "canceled" or "error")
                throw new LlmError { Kind = reason == "canceled" ? ErrorKind.BadGateway : ErrorKind.ServerError, Provider = ReplicateSpec.Name, Message = $"{ReplicateSpec.Name}: the prediction ended with `{reason}` before it finished" }.ToException();
            _done = true;
        }
        else if (frame.EventTypeIs("error"u8))
        {
            throw new LlmError { Kind = ErrorKind.ServerError, Provider = ReplicateSpec.Name, Message = $"{ReplicateSpec.Name}: {Detail(frame.Data)}" }.ToException();
        }
        else if (frame.EventTypeIs("metrics"u8))
        {
            var reader = new Utf8JsonReader(frame.Data);
            _metrics = JsonSerializer.Deserialize(ref reader, ReplicateJson.Default.ReplicateMetrics);
        }
    }

    protected override void OnEnd(IBufferWriter<byte> output)
    {
        if (!_done)
            throw new LlmError { Kind = ErrorKind.BadGateway, Provider = ReplicateSpec.Name, Message = $"{ReplicateSpec.Name} stream ended before its done event; the answer is incomplete" }.ToException();
        _writer.Finish(output, "stop");
        if (_metrics is { } m)
        {
            var usage = ReplicateAnswers.Usage(m);
            context.Usage = usage;
            _writer.Usage(output, usage);
        }
        OpenAIChunkWriter.Done(output);
        ContentStarted = true;
    }

    private static string? Reason(ReadOnlySequence<byte> data)
    {
        if (data.IsEmpty) return null;
        try
        {
            using var doc = JsonDocument.Parse(data);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("reason", out var r) ? r.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Detail(ReadOnlySequence<byte> data)
    {
        try
        {
            using var doc = JsonDocument.Parse(data);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("detail", out var d)) return d.GetString() ?? "stream error";
        }
        catch (JsonException) { }
        return Encoding.UTF8.GetString(data.ToArray());
    }
}
