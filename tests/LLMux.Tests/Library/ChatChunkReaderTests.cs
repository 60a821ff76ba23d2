using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Wire;
using LLMux.Stages.Hosting;

namespace LLMux.Tests.Library;

public sealed class ChatChunkReaderTests
{
    private const string Stream =
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":5,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"h\\u00e9\"},\"finish_reason\":null}],\"x_extra\":1}\n\n" +
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":5,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\"\"}}]},\"finish_reason\":null}]}\n\n" +
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":5,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n" +
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":5,\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}\n\n" +
        "data: [DONE]\n\n";

    private static string Describe(List<ChatCompletionChunk> chunks) => JsonSerializer.Serialize(chunks.Select(static c => JsonSerializer.Serialize(c, WireJson.Default.ChatCompletionChunk)).ToArray());

    [Fact]
    public void Chunks_are_the_same_whatever_the_byte_boundary()
    {
        var bytes = Encoding.UTF8.GetBytes(Stream);
        var whole = new List<ChatCompletionChunk>();
        using (var reader = new ChatChunkReader()) Assert.True(reader.Feed(bytes, whole));
        Assert.Equal(4, whole.Count);
        Assert.Equal("hé", whole[0].Choices[0].Delta.Content);
        Assert.True(whole[0].Extra!.ContainsKey("x_extra"));
        Assert.Equal("call_1", whole[1].Choices[0].Delta.ToolCalls![0].Id);
        Assert.Equal("tool_calls", whole[2].Choices[0].FinishReason);
        Assert.Equal(5, whole[3].Usage!.TotalTokens);
        var expected = Describe(whole);

        for (var split = 1; split < bytes.Length; split++)
        {
            var chunks = new List<ChatCompletionChunk>();
            using var reader = new ChatChunkReader();
            Assert.False(reader.Feed(bytes.AsSpan(0, split), chunks) && split < bytes.Length - 8);
            var done = reader.Feed(bytes.AsSpan(split), chunks);
            Assert.True(done);
            Assert.Equal(expected, Describe(chunks));
        }
    }

    [Fact]
    public void A_one_byte_trickle_gives_the_same_chunks()
    {
        var bytes = Encoding.UTF8.GetBytes(Stream);
        var whole = new List<ChatCompletionChunk>();
        using (var r = new ChatChunkReader()) r.Feed(bytes, whole);
        var trickled = new List<ChatCompletionChunk>();
        using var reader = new ChatChunkReader();
        var done = false;
        for (var i = 0; i < bytes.Length && !done; i++) done = reader.Feed(bytes.AsSpan(i, 1), trickled);
        Assert.True(done);
        Assert.Equal(Describe(whole), Describe(trickled));
    }
}
