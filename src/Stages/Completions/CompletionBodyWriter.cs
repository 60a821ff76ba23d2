using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;

namespace LLMux.Stages.Completions;

/// <summary>
/// The upstream body for one prompt of a completions request that cannot go as it is: a chat request (the prompt as
/// the one user message) for the chat bridge, or a fill-in-the-middle request (<c>prompt</c> a string, <c>suffix</c>
/// kept) for Mistral/Codestral. Every other field is copied unchanged, less the ones the route has no use for.
/// </summary>
internal static class CompletionBodyWriter
{
    /// <summary>Fields only a native text-completion API understands; the bridge never sends them (they were refused or dropped first).</summary>
    private static readonly HashSet<string> CompletionOnly = ["prompt", "suffix", "echo", "best_of", "logprobs"];

    public static PooledBuffer Chat(CompletionRequest request, JsonElement prompt) => Write(request, prompt, chat: true);

    public static PooledBuffer Fim(CompletionRequest request, JsonElement prompt) => Write(request, prompt, chat: false);

    private static PooledBuffer Write(CompletionRequest request, JsonElement prompt, bool chat)
    {
        if (prompt.ValueKind != JsonValueKind.String)
            throw LlmError.Invalid("token-id prompts need a provider with a native text-completion API (openai instruct models, text-completion-openai, hosted_vllm...); send the prompt as text", "prompt").ToException();
        var buffer = new PooledBuffer(1024);
        try
        {
            using var w = new Utf8JsonWriter(buffer, JsonOut.Options);
            w.WriteStartObject();
            foreach (var p in request.Root.EnumerateObject())
            {
                if (chat ? CompletionOnly.Contains(p.Name) : p.Name is "prompt" or "echo" or "best_of" or "logprobs") continue;
                p.WriteTo(w);
            }
            if (chat)
            {
                w.WriteStartArray("messages"u8);
                w.WriteStartObject();
                w.WriteString("role"u8, "user"u8);
                w.WritePropertyName("content"u8);
                prompt.WriteTo(w);
                w.WriteEndObject();
                w.WriteEndArray();
            }
            else
            {
                w.WritePropertyName("prompt"u8);
                prompt.WriteTo(w);
            }
            w.WriteEndObject();
            w.Flush();
            return buffer;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }
}
