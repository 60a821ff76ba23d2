using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Streaming;

namespace LLMux.Stages.Completions;

/// <summary>
/// The legacy completions inbound adapter as the host calls it: read and validate the request, write the per-prompt
/// body for the chat bridge or a FIM endpoint, turn the answers and streams back into text_completion objects.
/// </summary>
public static class CompletionsApi
{
    /// <summary>Parses and validates a <c>/v1/completions</c> body (throws <see cref="Pipeline.Errors.LlmException"/>); the caller disposes <see cref="CompletionRequest.Document"/>.</summary>
    public static CompletionRequest Read(ReadOnlyMemory<byte> body) => CompletionRequestReader.Parse(body);

    /// <summary>The chat request for one prompt (bridge).</summary>
    public static PooledBuffer ChatBody(CompletionRequest request, JsonElement prompt) => CompletionBodyWriter.Chat(request, prompt);

    /// <summary>The fill-in-the-middle request for one prompt.</summary>
    public static PooledBuffer FimBody(CompletionRequest request, JsonElement prompt) => CompletionBodyWriter.Fim(request, prompt);

    /// <summary>Put on <see cref="LlmContext.StreamTranslatorDecorator"/>: the prompt's chat stream as text_completion chunks.</summary>
    public static Func<StreamTranslator, LlmContext, StreamTranslator> StreamDecorator(int promptIndex, int n, bool last) =>
        (inner, _) => new TextCompletionStreamTranslator(inner, promptIndex, n, last);

    /// <summary>Collects the chat-shaped answers of the prompts into one text_completion object.</summary>
    public static Assembler NewAssembler(int n) => new(new TextCompletionAssembler(n));

    public sealed class Assembler
    {
        private readonly TextCompletionAssembler _inner;
        internal Assembler(TextCompletionAssembler inner) => _inner = inner;
        public void Add(int promptIndex, ReadOnlySpan<byte> chatCompletion) => _inner.Add(promptIndex, chatCompletion);
        public PooledBuffer Write(string fallbackModel, long now) => _inner.Write(fallbackModel, now);
    }
}
