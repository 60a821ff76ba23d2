using System.Collections.Frozen;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Wire;
using LLMux.Providers.Gemini;
using Microsoft.Extensions.Time.Testing;

namespace LLMux.Tests.Gemini;

/// <summary>Builds contexts for driving the Gemini writer, reader and translators directly.</summary>
internal static class GeminiTestContext
{
    private static readonly VertexProvider SharedVertex = new();

    public static readonly DateTimeOffset Now = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    public static LlmContext Chat(string requestJson, string model = "gemini-2.5-flash", bool vertex = false, IEnumerable<string>? dropped = null, bool dropParams = false)
    {
        var body = Encoding.UTF8.GetBytes(requestJson);
        var chat = JsonSerializer.Deserialize(body, WireJson.Default.ChatRequest)!;
        var context = new LlmContext
        {
            Mode = LlmMode.Chat,
            Body = body,
            Chat = chat,
            IsStream = chat.IsStream,
            DropParams = dropParams,
            Deployment = Deployment(model, vertex),
            TimeProvider = new FakeTimeProvider(Now),
        };
        foreach (var d in dropped ?? []) context.AddDroppedParam(d);
        return context;
    }

    public static Deployment Deployment(string model, bool vertex, string? apiBase = null, IReadOnlyDictionary<string, string>? settings = null) => new()
    {
        ModelName = "test-model",
        Model = (vertex ? "vertex_ai/" : "gemini/") + model,
        ProviderName = vertex ? "vertex_ai" : "gemini",
        UpstreamModel = model,
        Provider = vertex ? SharedVertex : new GeminiProvider(),
        Id = "dep-1",
        ApiBase = apiBase,
        Settings = (settings ?? new Dictionary<string, string>()).ToFrozenDictionary(StringComparer.Ordinal),
    };

    /// <summary>The Gemini body written for <paramref name="requestJson"/>.</summary>
    public static JsonNode WriteBody(string requestJson, string model = "gemini-2.5-flash", bool vertex = false, IEnumerable<string>? dropped = null)
    {
        var context = Chat(requestJson, model, vertex, dropped);
        using var buffer = GeminiRequestWriter.Write(context, model, vertex);
        return JsonNode.Parse(buffer.Span)!;
    }

    public static void AssertJsonEqual(string expected, JsonNode? actual)
    {
        var e = JsonNode.Parse(expected);
        Assert.True(JsonNode.DeepEquals(e, actual), $"expected {e?.ToJsonString()}\n  actual {actual?.ToJsonString()}");
    }
}
