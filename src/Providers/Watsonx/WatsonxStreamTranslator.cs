using System.Buffers;
using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Streaming;
using LLMux.Pipeline.Streaming.Decoders;
using LLMux.Pipeline.Wire;
using LLMux.Providers.Common;

namespace LLMux.Providers.Watsonx;

/// <summary>
/// <c>text/chat_stream</c>: SSE events (<c>id: n</c>, <c>event: message</c>, <c>data: {chunk}</c>) whose chunks are
/// OpenAI-like with <c>model_id</c>; the last carries <c>finish_reason</c> and <c>usage</c>. An <c>event: error</c>
/// carries IBM's error body. Written out as OpenAI chunks; a stream that ends before a finish_reason is an error.
/// </summary>
internal sealed class WatsonxStreamTranslator(LlmContext context) : SseStreamTranslator
{
    private readonly OpenAIChunkWriter _writer = new(
        "chatcmpl-" + Guid.NewGuid().ToString("N"),
        context.Deployment?.UpstreamModel ?? "",
        context.TimeProvider.GetUtcNow().ToUnixTimeSeconds(),
        includeUsage: context.Chat!.IncludeUsage,
        context);

    /// <summary>watsonx's tool-call index → the index the client sees.</summary>
    private readonly Dictionary<int, int> _tools = [];
    private Usage? _usage;
    private bool _done;

    protected override void OnEvent(in SseFrame frame, IBufferWriter<byte> output)
    {
        if (frame.Data.IsEmpty || frame.DataIs("[DONE]"u8)) return;
        if (frame.EventTypeIs("error"u8)) throw WatsonxErrorMapper.FromStream(frame.Data.ToArray()).ToException();
        if (_done) return;
        var reader = new Utf8JsonReader(frame.Data);
        var chunk = JsonSerializer.Deserialize(ref reader, WatsonxJson.Default.WatsonxChatResponse)
            ?? throw new JsonException($"{WatsonxSpec.Name} stream event is not a JSON object");
        if (chunk.Usage is { } u) _usage = WatsonxResponseReader.Usage(u);
        if (chunk.Choices is not { Count: > 0 } choices) return;
        var choice = choices[0];
        if (choice.Delta is { } delta)
        {
            if (delta.ReasoningContent is { Length: > 0 } thinking) { _writer.Reasoning(output, thinking); ContentStarted = true; }
            if (delta.Content is { Length: > 0 } text) { _writer.Text(output, text); ContentStarted = true; }
            if (delta.ToolCalls is { Count: > 0 } calls)
            {
                foreach (var call in calls)
                {
                    var key = call.Index ?? _tools.Count;
                    if (!_tools.TryGetValue(key, out var index))
                    {
                        _tools[key] = _writer.ToolCallStart(output, call.Id, call.Function?.Name ?? "", call.Function?.Arguments);
                        ContentStarted = true;
                    }
                    else _writer.ToolCallArguments(output, index, call.Function?.Arguments);
                }
            }
        }
        if (choice.FinishReason is { } finish)
        {
            _done = true;
            _writer.Finish(output, WatsonxFinishReasons.ToOpenAI(finish));
            ContentStarted = true;
        }
    }

    protected override void OnEnd(IBufferWriter<byte> output)
    {
        if (!_done)
        {
            throw new LlmError
            {
                Kind = ErrorKind.BadGateway,
                Provider = WatsonxSpec.Name,
                Message = $"{WatsonxSpec.Name} stream ended before its finish_reason; the answer is incomplete",
            }.ToException();
        }
        var usage = _usage ?? new Usage();
        context.Usage = usage;
        _writer.Usage(output, usage);
        OpenAIChunkWriter.Done(output);
    }
}
