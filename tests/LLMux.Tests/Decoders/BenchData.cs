using System.Buffers;
using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Streaming.Decoders;
using Xunit;

namespace LLMux.Tests.Decoders;

/// <summary>
/// Generates the real-shaped provider streams checked into bench/data, and checks that the files there are
/// exactly what it generates and that they decode. Regenerate with LLMUX_WRITE_BENCH_DATA=1.
/// </summary>
public sealed class BenchData
{
    private const string Text =
        "Sure! Here is a short overview of the weather in the three cities you asked about, followed by a call to the " +
        "forecast tool so that we can get the exact numbers for tomorrow. San Francisco is mild and foggy in the morning, " +
        "clearing by noon with highs around 18 degrees. New York is colder, with a chance of light rain in the evening and " +
        "a brisk wind off the river. Tokyo is warm and humid; expect scattered showers and temperatures near 27 degrees. " +
        "If you are travelling, pack a light jacket for San Francisco, an umbrella for New York and Tokyo, and comfortable " +
        "shoes everywhere. Let me fetch the detailed forecast now so you can plan each day with confidence.";

    private static readonly string[] Tokens = Tokenise(Text);

    private const string ToolArguments = "{\"locations\":[{\"city\":\"San Francisco\",\"country\":\"US\"},{\"city\":\"New York\",\"country\":\"US\"},{\"city\":\"Tokyo\",\"country\":\"JP\"}],\"unit\":\"celsius\",\"days\":3}";

    private static string[] Tokenise(string text)
    {
        var tokens = new List<string>();
        var words = text.Split(' ');
        for (var i = 0; i < words.Length; i++) tokens.Add(i == 0 ? words[i] : " " + words[i]);
        return [.. tokens];
    }

    private static IEnumerable<string> ArgumentPieces()
    {
        for (var i = 0; i < ToolArguments.Length; i += 7) yield return ToolArguments.Substring(i, Math.Min(7, ToolArguments.Length - i));
    }

    private static string Json(string value) => JsonSerializer.Serialize(value);

    /// <summary>OpenAI chat completions stream: role, text, two tool calls streamed in pieces, finish, usage, [DONE].</summary>
    public static byte[] OpenAiChatWithTools()
    {
        var text = new StringBuilder();
        const string head = "{\"id\":\"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\",\"object\":\"chat.completion.chunk\",\"created\":1741569952,\"model\":\"gpt-4o-2024-08-06\",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_eb9dce56a8\",";
        void Chunk(string choices, string usage = "null") => text.Append("data: ").Append(head).Append("\"choices\":").Append(choices).Append(",\"usage\":").Append(usage).Append("}\n\n");

        Chunk("[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}]");
        foreach (var token in Tokens) Chunk($"[{{\"index\":0,\"delta\":{{\"content\":{Json(token)}}},\"logprobs\":null,\"finish_reason\":null}}]");
        for (var call = 0; call < 2; call++)
        {
            Chunk($"[{{\"index\":0,\"delta\":{{\"tool_calls\":[{{\"index\":{call},\"id\":\"call_{call}DdmvmJhWBXAu6BVjU1ckIMp\",\"type\":\"function\",\"function\":{{\"name\":\"get_forecast\",\"arguments\":\"\"}}}}]}},\"logprobs\":null,\"finish_reason\":null}}]");
            foreach (var piece in ArgumentPieces())
                Chunk($"[{{\"index\":0,\"delta\":{{\"tool_calls\":[{{\"index\":{call},\"function\":{{\"arguments\":{Json(piece)}}}}}]}},\"logprobs\":null,\"finish_reason\":null}}]");
        }
        Chunk("[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"tool_calls\"}]");
        Chunk("[]", "{\"prompt_tokens\":182,\"completion_tokens\":211,\"total_tokens\":393,\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}");
        text.Append("data: [DONE]\n\n");
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>Anthropic Messages stream: every event named with an event: line, a ping, text and a tool_use block.</summary>
    public static byte[] AnthropicMessages()
    {
        var text = new StringBuilder();
        void Event(string type, string data) => text.Append("event: ").Append(type).Append("\ndata: ").Append(data).Append("\n\n");

        Event("message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_01XFDUDYJgAACzvnptvVoYEL\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5-20250929\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":472,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":2}}}");
        Event("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}");
        Event("ping", "{\"type\": \"ping\"}");
        foreach (var token in Tokens) Event("content_block_delta", $"{{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":{Json(token)}}}}}");
        Event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}");
        Event("content_block_start", "{\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_01T1x1fJ34qAmk2tNTrN7Up6\",\"name\":\"get_forecast\",\"input\":{}}}");
        foreach (var piece in ArgumentPieces()) Event("content_block_delta", $"{{\"type\":\"content_block_delta\",\"index\":1,\"delta\":{{\"type\":\"input_json_delta\",\"partial_json\":{Json(piece)}}}}}");
        Event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":1}");
        Event("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":211}}");
        Event("message_stop", "{\"type\":\"message_stop\"}");
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>Gemini streamGenerateContent without alt=sse: one pretty-printed JSON array, a few tokens per element.</summary>
    public static byte[] GeminiJsonArray()
    {
        var elements = new List<string>();
        for (var i = 0; i < Tokens.Length; i += 4)
        {
            var piece = string.Concat(Tokens.Skip(i).Take(4));
            var last = i + 4 >= Tokens.Length;
            elements.Add(
                "{\n  \"candidates\": [\n    {\n      \"content\": {\n        \"parts\": [\n          {\n            \"text\": " + Json(piece) +
                "\n          }\n        ],\n        \"role\": \"model\"\n      }" + (last ? ",\n      \"finishReason\": \"STOP\"" : "") +
                ",\n      \"index\": 0\n    }\n  ],\n  \"usageMetadata\": {\n    \"promptTokenCount\": 182,\n    \"candidatesTokenCount\": " + (i + 4) +
                ",\n    \"totalTokenCount\": " + (186 + i) + "\n  },\n  \"modelVersion\": \"gemini-2.5-flash\",\n  \"responseId\": \"aB3kZ5X1Lq2vz7IPgrq4mAU\"\n}");
        }
        elements.Add("{\n  \"candidates\": [\n    {\n      \"content\": {\n        \"parts\": [\n          {\n            \"functionCall\": {\n              \"name\": \"get_forecast\",\n              \"args\": " + ToolArguments + "\n            }\n          }\n        ],\n        \"role\": \"model\"\n      },\n      \"finishReason\": \"STOP\",\n      \"index\": 0\n    }\n  ],\n  \"modelVersion\": \"gemini-2.5-flash\"\n}");
        return Encoding.UTF8.GetBytes("[" + string.Join("\n,\r\n", elements) + "]");
    }

    /// <summary>Bedrock ConverseStream: messageStart, text deltas, a tool use in pieces, stops and metadata, with Bedrock's "p" padding.</summary>
    public static byte[] BedrockConverseStream()
    {
        var stream = new MemoryStream();
        const string pad = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0";
        var n = 0;
        string P() => Json(pad[..(1 + n++ % pad.Length)]);
        void Event(string type, string json) => stream.Write(EventStreamEncoder.BedrockEvent(type, json));

        Event("messageStart", $"{{\"p\":{P()},\"role\":\"assistant\"}}");
        foreach (var token in Tokens) Event("contentBlockDelta", $"{{\"contentBlockIndex\":0,\"delta\":{{\"text\":{Json(token)}}},\"p\":{P()}}}");
        Event("contentBlockStop", $"{{\"contentBlockIndex\":0,\"p\":{P()}}}");
        Event("contentBlockStart", $"{{\"contentBlockIndex\":1,\"p\":{P()},\"start\":{{\"toolUse\":{{\"name\":\"get_forecast\",\"toolUseId\":\"tooluse_kZJMlvQmRJ6eAyJE5GIl7Q\"}}}}}}");
        foreach (var piece in ArgumentPieces()) Event("contentBlockDelta", $"{{\"contentBlockIndex\":1,\"delta\":{{\"toolUse\":{{\"input\":{Json(piece)}}}}},\"p\":{P()}}}");
        Event("contentBlockStop", $"{{\"contentBlockIndex\":1,\"p\":{P()}}}");
        Event("messageStop", $"{{\"p\":{P()},\"stopReason\":\"tool_use\"}}");
        Event("metadata", $"{{\"metrics\":{{\"latencyMs\":1834}},\"p\":{P()},\"usage\":{{\"inputTokens\":182,\"outputTokens\":211,\"totalTokens\":393}}}}");
        return stream.ToArray();
    }

    public static readonly (string File, Func<byte[]> Generate)[] Files =
    [
        ("openai-chat-tools.sse", OpenAiChatWithTools),
        ("anthropic-messages.sse", AnthropicMessages),
        ("gemini-stream.json", GeminiJsonArray),
        ("bedrock-converse.bin", BedrockConverseStream),
    ];

    private static string DataDirectory()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "LLMux.sln"))) directory = directory.Parent;
        Assert.NotNull(directory);
        return Path.Combine(directory.FullName, "bench", "data");
    }

    [Fact]
    public void Bench_data_files_are_what_the_generator_writes()
    {
        var write = Environment.GetEnvironmentVariable("LLMUX_WRITE_BENCH_DATA") == "1";
        foreach (var (file, generate) in Files)
        {
            var path = Path.Combine(DataDirectory(), file);
            var bytes = generate();
            if (write) File.WriteAllBytes(path, bytes);
            Assert.True(File.Exists(path), $"{path} is missing; run the tests with LLMUX_WRITE_BENCH_DATA=1");
            Assert.Equal(bytes, File.ReadAllBytes(path));
        }
    }

    [Fact]
    public void Bench_data_streams_decode_into_valid_json_frames()
    {
        using (var sse = new SseDecoder())
        {
            foreach (var data in new[] { OpenAiChatWithTools(), AnthropicMessages() })
            {
                var buffer = new ReadOnlySequence<byte>(data);
                var frames = 0;
                while (sse.TryRead(ref buffer, true, out var frame))
                {
                    frames++;
                    if (!frame.DataIs("[DONE]"u8)) using (JsonDocument.Parse(frame.Data)) { }
                }
                Assert.True(frames > 100);
                Assert.Equal(SseModel.RunSseParser(data).Count, frames);
            }
        }

        var json = new ReadOnlySequence<byte>(GeminiJsonArray());
        var decoder = new JsonArrayDecoder();
        var elements = 0;
        while (decoder.TryRead(ref json, true, out var element)) { elements++; using (JsonDocument.Parse(element)) { } }
        Assert.True(elements > 20);

        var binary = new ReadOnlySequence<byte>(BedrockConverseStream());
        var events = new EventStreamDecoder();
        var messages = 0;
        while (events.TryRead(ref binary, true, out var message)) { messages++; Assert.True(message.IsEvent); using (JsonDocument.Parse(message.Payload)) { } }
        Assert.True(messages > 100);
    }
}
