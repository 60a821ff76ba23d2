using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LLMux.Pipeline.Wire;

namespace LLMux.Tests.Pipeline;

/// <summary>
/// <c>messages</c> is read one message at a time (no serializer read stack per request): every field a message can
/// carry survives the parse, and a bad message fails with the path it had when the serializer read the whole list.
/// </summary>
public sealed class ChatMessagesConverterTests
{
    private static ChatRequest Parse(string json) => JsonSerializer.Deserialize(Encoding.UTF8.GetBytes(json), WireJson.Default.ChatRequest)!;

    [Fact]
    public void Every_message_field_and_unknown_field_round_trips()
    {
        const string messages = """
            [{"role":"system","content":"be terse","name":"sys"},
             {"role":"user","content":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"data:x"}}],"x_custom":{"a":[1,2]}},
             {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}],"reasoning_content":"r","thinking_blocks":[{"type":"thinking"}]},
             {"role":"tool","tool_call_id":"c1","content":"42"},
             null]
            """;
        var r = Parse($$"""{"model":"m","messages":{{messages}},"temperature":0.5}""");

        Assert.Equal(5, r.Messages!.Count);
        Assert.Equal("sys", r.Messages[0].Name);
        Assert.Equal("hi", r.Messages[1].TextContent());
        Assert.True(r.Messages[1].Extra!.ContainsKey("x_custom"));
        Assert.Equal("f", r.Messages[2].ToolCalls![0].Function!.Name);
        Assert.Equal("c1", r.Messages[3].ToolCallId);
        Assert.Null(r.Messages[4]);
        Assert.Equal(0.5, r.Temperature);

        var written = JsonNode.Parse(JsonSerializer.Serialize(r, WireJson.Default.ChatRequest))!["messages"];
        // Written as the serializer writes the list: null content is left out (WhenWritingNull), everything else is kept.
        var expected = JsonNode.Parse(messages)!;
        expected[2]!.AsObject().Remove("content");
        Assert.True(JsonNode.DeepEquals(expected, written), written!.ToJsonString());
    }

    [Theory]
    [InlineData("""[{"role":"user","content":"a"},{"role":5}]""", "$.messages[1].role")]
    [InlineData("""[{"role":"user","content":"a","tool_calls":[{"id":7}]}]""", "$.messages[0].tool_calls[0].id")]
    [InlineData("""["just text"]""", "$.messages[0]")]
    [InlineData("\"hello\"", "$.messages")]
    public void A_value_of_the_wrong_type_names_its_path(string messages, string path)
    {
        var ex = Assert.ThrowsAny<JsonException>(() => Parse($$"""{"model":"m","messages":{{messages}}}"""));
        Assert.Equal(path, ex.Path);
        Assert.Contains("could not be converted", ex.Message);
        Assert.Contains($"Path: {path} |", ex.Message);
    }

    [Fact]
    public void Broken_json_inside_a_message_is_a_json_error_at_that_message()
    {
        var ex = Assert.ThrowsAny<JsonException>(() => Parse("""{"model":"m","messages":[{"role":"user","content":tru}]}"""));
        Assert.StartsWith("$.messages[0]", ex.Path);
    }

    [Theory]
    [InlineData("\"plain\"", JsonValueKind.String)]
    [InlineData("\"esc \\\" \\u00e9 \\n \\ud83d\\ude00\"", JsonValueKind.String)]
    [InlineData("\"\"", JsonValueKind.String)]
    [InlineData("[{\"type\":\"text\",\"text\":\"hi\"}]", JsonValueKind.Array)]
    [InlineData("5", JsonValueKind.Number)]
    [InlineData("{\"a\":1}", JsonValueKind.Object)]
    public void String_content_is_kept_as_text_and_reads_as_the_element_it_was(string content, JsonValueKind kind)
    {
        var m = Parse($$"""{"model":"m","messages":[{"role":"user","content":{{content}}}]}""").Messages![0];
        var expected = JsonDocument.Parse(content).RootElement;

        Assert.Equal(kind, m.ContentKind);
        Assert.True(m.Content.HasValue);
        Assert.True(JsonElement.DeepEquals(expected, m.Content!.Value), m.Content.Value.GetRawText());
        if (kind == JsonValueKind.String) Assert.Equal(expected.GetString(), m.TextContent());
        var written = JsonNode.Parse(JsonSerializer.Serialize(m, WireJson.Default.ChatMessage))!["content"];
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(content), written), written?.ToJsonString());
    }

    [Theory]
    [InlineData("""{"role":"assistant","content":null}""")]
    [InlineData("""{"role":"assistant"}""")]
    public void Null_or_missing_content_is_no_content(string message)
    {
        var m = Parse($$"""{"model":"m","messages":[{{message}}]}""").Messages![0];
        Assert.Null(m.Content);
        Assert.Equal(JsonValueKind.Undefined, m.ContentKind);
        Assert.Null(m.TextContent());
        Assert.False(JsonNode.Parse(JsonSerializer.Serialize(m, WireJson.Default.ChatMessage))!.AsObject().ContainsKey("content"));
    }

    [Fact]
    public void The_last_of_two_contents_wins_and_a_set_content_replaces_the_text()
    {
        var m = Parse("""{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"}],"content":"b"}]}""").Messages![0];
        Assert.Equal(JsonValueKind.String, m.ContentKind);
        Assert.Equal("b", m.TextContent());

        m.Content = JsonDocument.Parse("""[{"type":"text","text":"c"}]""").RootElement;
        Assert.Equal(JsonValueKind.Array, m.ContentKind);
        Assert.Equal("c", m.TextContent());
        Assert.Equal("""{"role":"user","content":[{"type":"text","text":"c"}]}""", JsonSerializer.Serialize(m, WireJson.Default.ChatMessage));

        m.Content = null;
        Assert.Equal(JsonValueKind.Undefined, m.ContentKind);
        Assert.Equal("""{"role":"user"}""", JsonSerializer.Serialize(m, WireJson.Default.ChatMessage));
    }
}
