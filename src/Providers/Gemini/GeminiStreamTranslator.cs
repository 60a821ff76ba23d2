using System.Buffers;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Streaming;
using LLMux.Pipeline.Streaming.Decoders;

namespace LLMux.Providers.Gemini;

/// <summary>Gemini <c>streamGenerateContent?alt=sse</c>: each <c>data:</c> event is one <c>GenerateContentResponse</c>.</summary>
internal sealed class GeminiStreamTranslator(LlmContext context, string provider, string model) : SseStreamTranslator
{
    private readonly GeminiStreamMapper _mapper = new(context, provider, model);

    protected override void OnEvent(in SseFrame frame, IBufferWriter<byte> output)
    {
        _mapper.OnEvent(frame.Data, output);
        ContentStarted = _mapper.ContentStarted;
    }

    protected override void OnEnd(IBufferWriter<byte> output) => _mapper.OnEnd(output);

    public override void Dispose()
    {
        _mapper.Dispose();
        base.Dispose();
    }
}
