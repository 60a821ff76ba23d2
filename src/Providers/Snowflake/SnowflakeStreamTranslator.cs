using System.Buffers;
using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Streaming;
using LLMux.Pipeline.Streaming.Decoders;
using LLMux.Pipeline.Wire;
using LLMux.Providers.Common;

namespace LLMux.Providers.Snowflake;

/// <summary>
/// Cortex's SSE stream: <c>data: {chunk}</c> whose <c>choices[0].delta</c> is text (<c>content</c>) or a tool-use
/// fragment (<c>type: tool_use</c>, <c>tool_use_id</c>, <c>name</c>, <c>input</c>: a piece of the arguments' JSON text);
/// usage rides on the chunks (the last one counts). Cortex sends no end marker: the finish chunk, usage and
/// <c>[DONE]</c> are written when the upstream closes at a frame boundary.
/// </summary>
internal sealed class SnowflakeStreamTranslator(LlmContext context) : SseStreamTranslator
{
    private readonly OpenAIChunkWriter _writer = new(
        "chatcmpl-" + Guid.NewGuid().ToString("N"),
        context.Deployment?.UpstreamModel ?? "",
        context.TimeProvider.GetUtcNow().ToUnixTimeSeconds(),
        includeUsage: context.Chat!.IncludeUsage,
        context);

    private readonly Dictionary<string, int> _tools = new(StringComparer.Ordinal);
    private int _currentTool = -1;
    private string? _finish;
    private Usage? _usage;

    protected override void OnEvent(in SseFrame frame, IBufferWriter<byte> output)
    {
        if (frame.Data.IsEmpty || frame.DataIs("[DONE]"u8)) return;
        if (frame.EventTypeIs("error"u8)) throw SnowflakeErrorMapper.FromStream(frame.Data.ToArray()).ToException();
        var reader = new Utf8JsonReader(frame.Data);
        var chunk = JsonSerializer.Deserialize(ref reader, SnowflakeJson.Default.CortexResponse)
            ?? throw new JsonException($"{SnowflakeSpec.Name} stream event is not a JSON object");
        if (chunk.Usage is { } u && (u.PromptTokens > 0 || u.CompletionTokens > 0)) _usage = SnowflakeResponseReader.Usage(u);
        if (chunk.Choices is not { Count: > 0 } choices) return;
        var choice = choices[0];
        if (choice.FinishReason is { } finish) _finish = finish;
        if (choice.Delta is not { } delta) return;
        if (delta.Type == "tool_use" || delta.ToolUseId is not null)
        {
            var id = delta.ToolUseId ?? "";
            if (!_tools.TryGetValue(id, out var index))
            {
                index = _writer.ToolCallStart(output, delta.ToolUseId, delta.Name ?? "", delta.Input);
                _tools[id] = index;
                ContentStarted = true;
            }
            else _writer.ToolCallArguments(output, index, delta.Input);
            _currentTool = index;
            return;
        }
        var text = delta.Content ?? delta.Text;
        if (text is { Length: > 0 })
        {
            _writer.Text(output, text);
            ContentStarted = true;
        }
    }

    protected override void OnEnd(IBufferWriter<byte> output)
    {
        _writer.Finish(output, SnowflakeFinishReasons.ToOpenAI(_finish, _currentTool >= 0));
        var usage = _usage ?? new Usage();
        context.Usage = usage;
        _writer.Usage(output, usage);
        OpenAIChunkWriter.Done(output);
        ContentStarted = true;
    }
}
