using System.Text;
using LLMux.Host.Batch;
using LLMux.Pipeline.Capabilities;

namespace LLMux.Tests.Batch;

public sealed class BatchRequestLineTests
{
    [Theory]
    [InlineData("""{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"m","messages":[]}}""", "a", LlmMode.Chat, null)]
    [InlineData("""{"body":{"model":"m","input":"x"},"url":"/v1/embeddings","custom_id":"b"}""", "b", LlmMode.Embeddings, null)]
    [InlineData("""{"custom_id":"c","method":"GET","url":"/v1/chat/completions","body":{}}""", "c", LlmMode.Chat, "is not POST")]
    [InlineData("""{"custom_id":"d","method":"POST","url":"/v1/images/generations","body":{}}""", "d", LlmMode.Chat, "is not /v1/chat/completions")]
    [InlineData("""{"method":"POST","url":"/v1/chat/completions","body":{}}""", null, LlmMode.Chat, "no `custom_id`")]
    [InlineData("""{"custom_id":"e","url":"/v1/chat/completions","body":"text"}""", "e", LlmMode.Chat, "no `body` object")]
    [InlineData("""{"custom_id":"f","url":"/v1/chat/completions","body":{"a":""", "f", LlmMode.Chat, "not valid JSON")]
    public void Lines_are_read_or_rejected_with_a_reason(string json, string? id, LlmMode mode, string? problem)
    {
        var line = BatchRequestLine.Parse(7, Encoding.UTF8.GetBytes(json));
        Assert.Equal(id, line.CustomId);
        if (problem is null)
        {
            Assert.Null(line.Problem);
            Assert.Equal(mode, line.Mode);
            Assert.StartsWith("{\"model\"", Encoding.UTF8.GetString(line.Body.Span), StringComparison.Ordinal);
        }
        else
        {
            Assert.Contains(problem, line.Problem, StringComparison.Ordinal);
            Assert.StartsWith("line 7 ", line.Problem, StringComparison.Ordinal);
        }
    }
}
