using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Streaming;
using LLMux.Providers.Anthropic;
using LLMux.Providers.Common;

namespace LLMux.Providers.Bedrock;

/// <summary>
/// InvokeModel / InvokeModelWithResponseStream with an Anthropic Messages body (LiteLLM's
/// AmazonAnthropicClaudeMessagesConfig and its chat twin): a <c>/v1/messages</c> body goes through nearly as it came,
/// a chat request is written by the Anthropic writer; either way the body then follows Bedrock's rules
/// (<see cref="AnthropicPlatform.BedrockInvoke"/>). Answers are Anthropic's, streamed inside eventstream <c>chunk</c>s.
/// </summary>
internal static class BedrockInvoke
{
    public static string Operation(bool stream) => stream ? "invoke-with-response-stream" : "invoke";

    /// <summary>The upstream body for this call, in a pooled buffer the caller owns.</summary>
    public static PooledBuffer WriteBody(LlmContext context)
    {
        var betas = new List<string>(2);
        var body = new PooledBuffer(Math.Max(1024, context.Body.Length + 256));
        try
        {
            if (context.MessagesPassthrough)
            {
                foreach (var (name, value) in context.ForwardHeaders)
                    if (name == "anthropic-beta") betas.Add(value);
                AnthropicPlatformBody.Write(context.Body.Span, body, AnthropicPlatform.BedrockInvoke, betas, context);
                return body;
            }
            using var anthropic = new PooledBuffer(Math.Max(1024, context.Body.Length + 512));
            var writerBetas = new List<string>(2);
            AnthropicRequestWriter.Write(context, anthropic, writerBetas);
            betas.Add(string.Join(',', writerBetas));
            if (ExtraHeaderBetas(context) is { } extra) betas.Add(extra);
            AnthropicPlatformBody.Write(anthropic.Span, body, AnthropicPlatform.BedrockInvoke, betas, context);
            return body;
        }
        catch
        {
            body.Dispose();
            throw;
        }
    }

    /// <summary>The <c>anthropic-beta</c> value of a chat request's <c>extra_headers</c>, which Bedrock takes in the body.</summary>
    internal static string? ExtraHeaderBetas(LlmContext context)
    {
        if (context.IsDropped("extra_headers") || context.Chat?.Extra is not { } extra || !extra.TryGetValue("extra_headers", out var eh) || eh.ValueKind != JsonValueKind.Object) return null;
        foreach (var h in eh.EnumerateObject())
            if (h.Name.Equals("anthropic-beta", StringComparison.OrdinalIgnoreCase) && h.Value.ValueKind == JsonValueKind.String) return h.Value.GetString();
        return null;
    }

    /// <summary>A non-stream answer: the Anthropic message itself (passthrough) or its OpenAI form.</summary>
    public static async ValueTask ReadResponseAsync(LlmContext context, HttpResponseMessage response, string provider, CancellationToken cancellationToken)
    {
        var raw = await ResponseBodyReader.ReadAsync(response, provider, cancellationToken).ConfigureAwait(false);
        if (context.MessagesPassthrough)
        {
            try
            {
                using var doc = JsonDocument.Parse(raw.Memory);
                if (doc.RootElement.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object) context.Usage = AnthropicResponseReader.ReadUsage(u);
            }
            catch (JsonException ex)
            {
                raw.Dispose();
                throw new LlmError { Kind = ErrorKind.BadGateway, Provider = provider, Message = $"{provider} answered with a body that is not valid JSON ({ex.Message})" }.ToException(ex);
            }
            context.ResponseBody = raw;
            return;
        }
        try
        {
            var created = context.TimeProvider.GetUtcNow().ToUnixTimeSeconds();
            ChatCompletionResponse.Write(context, AnthropicResponseReader.Read(raw.Memory, created, JsonToolFor(context)));
        }
        finally
        {
            raw.Dispose();
        }
    }

    public static StreamTranslator CreateStreamTranslator(LlmContext context) => new InvokeStreamTranslator(context, JsonToolFor(context));

    private static bool JsonToolFor(LlmContext context) =>
        !context.MessagesPassthrough && context.Chat is { } chat && !context.IsDropped("response_format") && AnthropicRequestWriter.UsesJsonTool(chat, context.Deployment!.UpstreamModel);
}
