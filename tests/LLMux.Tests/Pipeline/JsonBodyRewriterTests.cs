using System.Buffers;
using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Json;

namespace LLMux.Tests.Pipeline;

public sealed class JsonBodyRewriterTests
{
    private static string Rewrite(string body, string? model, string[]? remove = null, bool forceUsage = false)
    {
        var output = new ArrayBufferWriter<byte>();
        JsonBodyRewriter.Rewrite(Encoding.UTF8.GetBytes(body), output, model, remove, forceUsage);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    [Fact]
    public void Model_is_rewritten_and_every_other_field_kept_byte_for_byte()
    {
        var body = """{"model":"alias","messages":[{"role":"user","content":"h\u00e9 \"q\""}],"x":{"deep":[1,2.50,true,null]},"temperature":0.7}""";
        var result = Rewrite(body, "gpt-4o");
        Assert.Equal("""{"model":"gpt-4o","messages":[{"role":"user","content":"h\u00e9 \"q\""}],"x":{"deep":[1,2.50,true,null]},"temperature":0.7}""", result);
    }

    [Fact]
    public void Removed_fields_are_gone_wherever_they_stand()
    {
        var result = Rewrite("""{"drop_params":true,"model":"a","logit_bias":{"1":2},"n":1}""", "b", ["drop_params", "logit_bias"]);
        Assert.Equal("""{"model":"b","n":1}""", result);
    }

    [Fact]
    public void Include_usage_is_forced_on_and_other_stream_options_kept()
    {
        Assert.Equal("""{"model":"b","stream":true,"stream_options":{"include_usage":true}}""", Rewrite("""{"model":"a","stream":true}""", "b", forceUsage: true));
        var merged = Rewrite("""{"model":"a","stream_options":{"include_obfuscation":false,"include_usage":false}}""", "b", forceUsage: true);
        using var doc = JsonDocument.Parse(merged);
        var so = doc.RootElement.GetProperty("stream_options");
        Assert.True(so.GetProperty("include_usage").GetBoolean());
        Assert.False(so.GetProperty("include_obfuscation").GetBoolean());
    }

    [Fact]
    public void Escaped_property_names_survive()
    {
        var result = Rewrite("""{"mo\u0064el":"a","we\u0069rd":1}""", "b");
        using var doc = JsonDocument.Parse(result);
        Assert.Equal("b", doc.RootElement.GetProperty("model").GetString());
        Assert.Equal(1, doc.RootElement.GetProperty("weird").GetInt32());
    }
}
