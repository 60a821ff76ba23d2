using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Wire;
using LLMux.Providers.Anthropic;
using Microsoft.Extensions.Time.Testing;

namespace LLMux.Tests.Anthropic;

/// <summary>Builds an <see cref="LlmContext"/> for an OpenAI request routed to an Anthropic deployment, without a host.</summary>
internal static class AnthropicTestContext
{
    public static readonly DateTimeOffset Now = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);

    public static LlmContext Create(string openAIJson, string model = "claude-sonnet-4-5", string? apiBase = null, bool dropParams = false, params string[] dropped)
    {
        var bytes = Encoding.UTF8.GetBytes(openAIJson);
        var chat = JsonSerializer.Deserialize(bytes, WireJson.Default.ChatRequest)!;
        var context = new LlmContext
        {
            Mode = LlmMode.Chat,
            Body = bytes,
            Chat = chat,
            IsStream = chat.IsStream,
            DropParams = dropParams,
            TimeProvider = new FakeTimeProvider(Now),
            Deployment = new Deployment
            {
                ModelName = "claude",
                Model = "anthropic/" + model,
                ProviderName = "anthropic",
                UpstreamModel = model,
                Provider = new AnthropicProvider(),
                Id = "dep-1",
                ApiBase = apiBase,
                ApiKey = new Secret("sk-ant-test-key"),
            },
        };
        foreach (var d in dropped) context.AddDroppedParam(d);
        return context;
    }

    /// <summary>The Anthropic body the writer produces, and the betas it asked for.</summary>
    public static (JsonNode Body, List<string> Betas) Write(string openAIJson, string model = "claude-sonnet-4-5", bool dropParams = false, params string[] dropped)
    {
        var context = Create(openAIJson, model, null, dropParams, dropped);
        var buffer = new PooledBuffer();
        try
        {
            var betas = new List<string>();
            AnthropicRequestWriter.Write(context, buffer, betas);
            return (JsonNode.Parse(buffer.Span)!, betas);
        }
        finally
        {
            buffer.Dispose();
        }
    }

    public static void AssertJsonEqual(string expected, JsonNode? actual)
    {
        var e = JsonNode.Parse(expected);
        Assert.True(JsonNode.DeepEquals(e, actual), $"expected:\n{e?.ToJsonString()}\nactual:\n{actual?.ToJsonString()}");
    }
}
