using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Providers.Common;

namespace LLMux.Providers.Anthropic;

/// <summary>
/// A non-stream Anthropic message from a platform that hosts Claude (Bedrock InvokeModel, Vertex rawPredict): kept
/// as it came for a <c>/v1/messages</c> client (usage read on the way), or turned into an OpenAI chat completion.
/// </summary>
internal static class AnthropicPlatformAnswer
{
    public static async ValueTask ReadAsync(LlmContext context, HttpResponseMessage response, string provider, CancellationToken cancellationToken)
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
            ChatCompletionResponse.Write(context, AnthropicResponseReader.Read(raw.Memory, created, UsesJsonTool(context)));
        }
        finally
        {
            raw.Dispose();
        }
    }

    /// <summary>True when a chat request's json_schema answer comes back as the forced <c>json_tool_call</c> tool.</summary>
    public static bool UsesJsonTool(LlmContext context) =>
        !context.MessagesPassthrough && context.Chat is { } chat && !context.IsDropped("response_format") && AnthropicRequestWriter.UsesJsonTool(chat, context.Deployment!.UpstreamModel);

    /// <summary>The upstream body for a platform: the client's Messages body (passthrough) or one written from a chat request, then the platform's rules.</summary>
    public static PooledBuffer WriteBody(LlmContext context, AnthropicPlatform platform)
    {
        var betas = new List<string>(2);
        var body = new PooledBuffer(Math.Max(1024, context.Body.Length + 256));
        try
        {
            if (context.MessagesPassthrough)
            {
                foreach (var (name, value) in context.ForwardHeaders)
                    if (name == "anthropic-beta") betas.Add(value);
                AnthropicPlatformBody.Write(context.Body.Span, body, platform, betas, context);
                return body;
            }
            using var anthropic = new PooledBuffer(Math.Max(1024, context.Body.Length + 512));
            var writerBetas = new List<string>(2);
            AnthropicRequestWriter.Write(context, anthropic, writerBetas);
            betas.Add(string.Join(',', writerBetas));
            if (ExtraHeaderBetas(context) is { } extra) betas.Add(extra);
            AnthropicPlatformBody.Write(anthropic.Span, body, platform, betas, context);
            return body;
        }
        catch
        {
            body.Dispose();
            throw;
        }
    }

    /// <summary>The <c>anthropic-beta</c> value of a chat request's <c>extra_headers</c>, which the platforms take in the body.</summary>
    private static string? ExtraHeaderBetas(LlmContext context)
    {
        if (context.IsDropped("extra_headers") || context.Chat?.Extra is not { } extra || !extra.TryGetValue("extra_headers", out var eh) || eh.ValueKind != JsonValueKind.Object) return null;
        foreach (var h in eh.EnumerateObject())
            if (h.Name.Equals("anthropic-beta", StringComparison.OrdinalIgnoreCase) && h.Value.ValueKind == JsonValueKind.String) return h.Value.GetString();
        return null;
    }
}
