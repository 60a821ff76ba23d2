using System.Buffers;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Streaming;

namespace LLMux.Providers.Gemini;

/// <summary>Gemini <c>streamGenerateContent</c> without <c>alt=sse</c>: one JSON array whose elements are <c>GenerateContentResponse</c>s.</summary>
internal sealed class GeminiJsonArrayStreamTranslator(LlmContext context, string provider, string model) : JsonArrayStreamTranslator
{
    private readonly GeminiStreamMapper _mapper = new(context, provider, model);

    protected override void OnElement(ReadOnlySequence<byte> element, IBufferWriter<byte> output)
    {
        _mapper.OnEvent(element, output);
        ContentStarted = _mapper.ContentStarted;
    }

    protected override void OnEnd(IBufferWriter<byte> output) => _mapper.OnEnd(output);

    public override void Dispose()
    {
        _mapper.Dispose();
        base.Dispose();
    }
}
