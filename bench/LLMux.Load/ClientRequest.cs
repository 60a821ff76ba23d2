using System.Text;
using LLMux.Emulators;

namespace LLMux.Load;

/// <summary>
/// The request a load client sends in one wire format: body bytes, headers, and the marker that ends a
/// complete stream. The URL (which differs per format and stream mode) comes from the caller.
/// </summary>
internal sealed record ClientRequest(byte[] Body, IReadOnlyList<(string Name, string Value)> Headers, byte[] EndMarker, bool EventStream)
{
    private const string Prompt = "Say something about load testing.";

    public static ClientRequest For(WireFormat format, string model, bool stream, string? apiKey, string? bodyFile)
    {
        var s = stream ? "true" : "false";
        var (body, headers, end) = format switch
        {
            WireFormat.OpenAI => (
                $$"""{"model":"{{model}}","stream":{{s}},"messages":[{"role":"user","content":"{{Prompt}}"}]}""",
                apiKey is null ? new List<(string, string)>() : [("Authorization", "Bearer " + apiKey)],
                "[DONE]"),
            WireFormat.Anthropic => (
                $$"""{"model":"{{model}}","max_tokens":1024,"stream":{{s}},"messages":[{"role":"user","content":"{{Prompt}}"}]}""",
                [("x-api-key", apiKey ?? "sk-ant-bench"), ("anthropic-version", "2023-06-01")],
                "message_stop"),
            WireFormat.Gemini => (
                $$"""{"contents":[{"role":"user","parts":[{"text":"{{Prompt}}"}]}]}""",
                [("x-goog-api-key", apiKey ?? "gemini-test-key")],
                "finishReason"),
            WireFormat.Bedrock => (
                $$"""{"messages":[{"role":"user","content":[{"text":"{{Prompt}}"}]}]}""",
                [("Authorization", "Bearer " + (apiKey ?? BedrockEmulator.BearerToken))],
                "metadata"),
            WireFormat.Responses => (
                $$"""{"model":"{{model}}","stream":{{s}},"store":false,"input":"{{Prompt}}"}""",
                apiKey is null ? new List<(string, string)>() : [("Authorization", "Bearer " + apiKey)],
                "response.completed"),
            _ => throw new ArgumentOutOfRangeException(nameof(format)),
        };
        var bytes = bodyFile is null ? Encoding.UTF8.GetBytes(body) : File.ReadAllBytes(bodyFile);
        return new ClientRequest(bytes, headers, Encoding.ASCII.GetBytes(end), format == WireFormat.Bedrock && stream);
    }
}
