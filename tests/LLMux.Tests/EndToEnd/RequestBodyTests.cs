using System.ClientModel;
using System.ClientModel.Primitives;
using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json;
using CsCheck;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;
using OpenAI;
using OpenAI.Chat;

namespace LLMux.Tests.EndToEnd;

/// <summary>
/// Every inbound body passes one reader: strict UTF-8 (a 400 before any upstream call) and Content-Encoding
/// (gzip, deflate, br, zstd undone while reading, the size limit on the decompressed bytes, 415 for an unknown coding,
/// 400 for corrupt data), on the OpenAI routes and on /v1/messages, streaming or not, passthrough or translated.
/// </summary>
public sealed class RequestBodyTests : IAsyncLifetime
{
    private const string MasterKey = "sk-master";
    private OpenAIEmulator _openai = null!;
    private AnthropicEmulator _anthropic = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _openai = await OpenAIEmulator.StartNewAsync();
        _anthropic = await AnthropicEmulator.StartNewAsync();
        _gateway = await GatewayHost.StartAsync($"""
            model_list:
              - model_name: gpt-test
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_base: {_openai.ApiBase}
                  api_key: sk-upstream
              - model_name: embed-test
                litellm_params:
                  model: openai/text-embedding-3-small
                  api_base: {_openai.ApiBase}
                  api_key: sk-upstream
              - model_name: claude
                litellm_params:
                  model: anthropic/claude-sonnet-4-5
                  api_base: {_anthropic.ApiBase}
                  api_key: sk-ant-upstream
            router_settings:
              num_retries: 0
            general_settings:
              master_key: {MasterKey}
              max_request_size_mb: 1
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _anthropic.DisposeAsync();
        await _openai.DisposeAsync();
    }

    private int UpstreamCalls => _openai.Requests.Count + _anthropic.Requests.Count;

    /// <summary>A body for each route: <paramref name="content"/> is spliced raw into a JSON string.</summary>
    private static byte[] Body(string route, byte[] content)
    {
        var (head, tail) = route switch
        {
            "chat" => ("{\"model\":\"gpt-test\",\"messages\":[{\"role\":\"user\",\"content\":\"hi ", "\"}]}"),
            "chat-stream" => ("{\"model\":\"gpt-test\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi ", "\"}]}"),
            "embeddings" => ("{\"model\":\"embed-test\",\"input\":\"hi ", "\"}"),
            "messages-passthrough" => ("{\"model\":\"claude\",\"max_tokens\":50,\"messages\":[{\"role\":\"user\",\"content\":\"hi ", "\"}]}"),
            "messages-passthrough-stream" => ("{\"model\":\"claude\",\"max_tokens\":50,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi ", "\"}]}"),
            "messages-translated" => ("{\"model\":\"gpt-test\",\"max_tokens\":50,\"messages\":[{\"role\":\"user\",\"content\":\"hi ", "\"}]}"),
            _ => throw new ArgumentOutOfRangeException(nameof(route)),
        };
        return [.. Encoding.UTF8.GetBytes(head), .. content, .. Encoding.UTF8.GetBytes(tail)];
    }

    private static string PathOf(string route) => route switch
    {
        "chat" or "chat-stream" => "/v1/chat/completions",
        "embeddings" => "/v1/embeddings",
        _ => "/v1/messages",
    };

    private async Task<(HttpStatusCode Status, string Text)> PostAsync(string path, byte[] body, string? contentEncoding = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        if (contentEncoding is not null) request.Content.Headers.TryAddWithoutValidation("Content-Encoding", contentEncoding);
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + MasterKey);
        request.Headers.TryAddWithoutValidation("anthropic-version", "2023-06-01");
        using var response = await _gateway.Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The error object in the route's own format: OpenAI's on the OpenAI routes, Anthropic's on /v1/messages.</summary>
    private static (string Type, string Message, string? Code) ErrorOf(string path, string text)
    {
        using var doc = JsonDocument.Parse(text);
        var root = doc.RootElement;
        var error = root.GetProperty("error");
        if (path == "/v1/messages")
        {
            Assert.Equal("error", root.GetProperty("type").GetString());
            return (error.GetProperty("type").GetString()!, error.GetProperty("message").GetString()!, null);
        }
        foreach (var key in new[] { "message", "type", "param", "code" }) Assert.True(error.TryGetProperty(key, out _), $"missing {key} in {text}");
        return (error.GetProperty("type").GetString()!, error.GetProperty("message").GetString()!, error.GetProperty("code").GetString());
    }

    public static TheoryData<string, string> InvalidUtf8Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var route in new[] { "chat", "chat-stream", "embeddings", "messages-passthrough", "messages-passthrough-stream", "messages-translated" })
            foreach (var bad in new[] { "fffe", "c0af", "eda080", "e282" })
                data.Add(route, bad);
        return data;
    }

    [Theory]
    [MemberData(nameof(InvalidUtf8Cases))]
    public async Task Invalid_utf8_in_a_string_is_a_400_and_never_reaches_the_upstream(string route, string badHex)
    {
        // "e282" is a three-byte sequence cut before the closing quote.
        var (status, text) = await PostAsync(PathOf(route), Body(route, Convert.FromHexString(badHex)));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var (type, message, code) = ErrorOf(PathOf(route), text);
        Assert.Equal("invalid_request_error", type);
        Assert.Contains("not valid UTF-8", message, StringComparison.Ordinal);
        if (code is not null) Assert.Equal("invalid_utf8", code);
        Assert.Equal(0, UpstreamCalls);
    }

    [Fact]
    public async Task The_error_names_the_offset_of_the_first_bad_byte()
    {
        var body = Body("chat", Convert.FromHexString("c3a9eda080"));
        var at = Array.IndexOf(body, (byte)0xED);
        var (_, text) = await PostAsync("/v1/chat/completions", body);
        Assert.Contains($"offset {at} (0xeda080", ErrorOf("/v1/chat/completions", text).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("chat")]
    [InlineData("chat-stream")]
    [InlineData("embeddings")]
    [InlineData("messages-passthrough")]
    [InlineData("messages-translated")]
    public async Task Valid_multibyte_utf8_goes_through(string route)
    {
        var content = Encoding.UTF8.GetBytes("é€😀\u007f\ufffd\uffff");
        var (status, text) = await PostAsync(PathOf(route), Body(route, content));
        Assert.True(status == HttpStatusCode.OK, text);
        Assert.Equal(1, UpstreamCalls);
    }

    /// <summary>Bytes that cannot break the JSON around them: control characters, quote and backslash become spaces.</summary>
    private static readonly Gen<byte[]> StringBytes = Gen.Frequency(
        (1, Gen.Byte.Array[0, 24].Select(static b => { for (var i = 0; i < b.Length; i++) if (b[i] < 0x20 || b[i] == (byte)'"' || b[i] == (byte)'\\') b[i] = 0x20; return b; })),
        (1, Gen.String[Gen.Char.AlphaNumeric, 0, 8].Select(Gen.OneOf("é", "€", "😀", "\uFFFF", "中文", "ß"), static (s, t) => Encoding.UTF8.GetBytes(s + t))));

    [Fact]
    public async Task Property_valid_utf8_is_forwarded_and_invalid_utf8_is_a_400_with_no_upstream_call()
    {
        var valid = 0;
        var invalid = 0;
        await StringBytes.SampleAsync(async content =>
        {
            var before = _openai.Requests.Count;
            var (status, text) = await PostAsync("/v1/chat/completions", Body("chat", content));
            if (System.Text.Unicode.Utf8.IsValid(content))
            {
                valid++;
                Assert.True(status == HttpStatusCode.OK, text);
                Assert.Equal(before + 1, _openai.Requests.Count);
                using var sent = _openai.Requests.Last().Json();
                Assert.Equal("hi " + Encoding.UTF8.GetString(content), sent.RootElement.GetProperty("messages")[0].GetProperty("content").GetString());
            }
            else
            {
                invalid++;
                Assert.Equal(HttpStatusCode.BadRequest, status);
                Assert.Equal("invalid_utf8", ErrorOf("/v1/chat/completions", text).Code);
                Assert.Equal(before, _openai.Requests.Count);
            }
        }, iter: 200, threads: 1);
        // The generator reaches both sides of the property.
        Assert.True(valid > 20 && invalid > 20, $"valid {valid}, invalid {invalid}");
    }

    private static byte[] Compress(string coding, byte[] data)
    {
        var output = new MemoryStream();
        if (coding == "zstd")
        {
            using var compressor = new ZstdSharp.Compressor();
            return compressor.Wrap(data).ToArray();
        }
        using (Stream z = coding switch
        {
            "gzip" => new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true),
            "deflate" => new ZLibStream(output, CompressionLevel.Fastest, leaveOpen: true),
            "deflate-raw" => new DeflateStream(output, CompressionLevel.Fastest, leaveOpen: true),
            "br" => new BrotliStream(output, CompressionLevel.Fastest, leaveOpen: true),
            _ => throw new ArgumentOutOfRangeException(nameof(coding)),
        })
            z.Write(data);
        return output.ToArray();
    }

    [Theory]
    [InlineData("gzip", "chat")]
    [InlineData("deflate", "chat")]
    [InlineData("deflate-raw", "chat")]
    [InlineData("br", "chat")]
    [InlineData("zstd", "chat")]
    [InlineData("zstd", "chat-stream")]
    [InlineData("gzip", "embeddings")]
    [InlineData("zstd", "messages-passthrough")]
    [InlineData("br", "messages-translated")]
    public async Task Compressed_bodies_are_decompressed_for_every_route(string coding, string route)
    {
        var body = Body(route, Encoding.UTF8.GetBytes("compressed é"));
        var (status, text) = await PostAsync(PathOf(route), Compress(coding, body), coding == "deflate-raw" ? "deflate" : coding);
        Assert.True(status == HttpStatusCode.OK, text);
        Assert.Equal(1, UpstreamCalls);
        var sent = _openai.Requests.Concat(_anthropic.Requests).Single();
        Assert.Contains("hi compressed é", sent.BodyText, StringComparison.Ordinal);
        Assert.False(sent.Headers.ContainsKey("Content-Encoding"));
    }

    [Fact]
    public async Task A_list_of_codings_is_undone_in_reverse_order()
    {
        var body = Body("chat", "twice"u8.ToArray());
        var (status, text) = await PostAsync("/v1/chat/completions", Compress("br", Compress("gzip", body)), "gzip, br");
        Assert.True(status == HttpStatusCode.OK, text);
        Assert.Contains("hi twice", _openai.Requests.Single().BodyText, StringComparison.Ordinal);
    }

    /// <summary>Codex CLI compresses with zstd: the same through the OpenAI SDK, with a pipeline policy compressing each request.</summary>
    [Theory]
    [InlineData("zstd")]
    [InlineData("gzip")]
    public async Task The_openai_sdk_with_a_compressing_policy_gets_its_answer(string coding)
    {
        var options = new OpenAIClientOptions
        {
            Endpoint = new Uri(_gateway.Root, "/v1"),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = TimeSpan.FromSeconds(30),
        };
        options.AddPolicy(new CompressingPolicy(coding), PipelinePosition.PerCall);
        var client = new OpenAIClient(new ApiKeyCredential(MasterKey), options).GetChatClient("gpt-test");
        _openai.Enqueue(new OpenAIScript { Content = "squeezed answer" });
        ChatCompletion answer = await client.CompleteChatAsync([new UserChatMessage("compress me")]);
        Assert.Equal("squeezed answer", answer.Content[0].Text);
        using var sent = _openai.Requests.Single().Json();
        Assert.Equal("compress me", sent.RootElement.GetProperty("messages")[0].GetProperty("content").GetString());
    }

    private sealed class CompressingPolicy(string coding) : PipelinePolicy
    {
        public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex) => throw new NotSupportedException();

        public override async ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            var plain = new MemoryStream();
            await message.Request.Content!.WriteToAsync(plain);
            message.Request.Content = BinaryContent.Create(BinaryData.FromBytes(Compress(coding, plain.ToArray())));
            message.Request.Headers.Set("Content-Encoding", coding);
            await ProcessNextAsync(message, pipeline, currentIndex);
        }
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("zstd")]
    [InlineData("br")]
    public async Task A_zip_bomb_is_a_413_on_its_decompressed_size(string coding)
    {
        // 64 MiB of spaces inside a string, a few KB on the wire; the limit is 1 MiB.
        var inner = new byte[64 * 1024 * 1024];
        inner.AsSpan().Fill((byte)' ');
        var wire = Compress(coding, Body("chat", inner));
        Assert.True(wire.Length < 1024 * 1024);
        var (status, text) = await PostAsync("/v1/chat/completions", wire, coding);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        var (_, message, code) = ErrorOf("/v1/chat/completions", text);
        Assert.Equal("request_too_large", code);
        Assert.Contains("decompressed", message, StringComparison.Ordinal);
        Assert.Equal(0, UpstreamCalls);
    }

    [Theory]
    [InlineData("/v1/chat/completions", "compress")]
    [InlineData("/v1/embeddings", "lz4")]
    [InlineData("/v1/messages", "compress")]
    public async Task An_unknown_content_encoding_is_a_415_in_the_route_format(string path, string coding)
    {
        var (status, text) = await PostAsync(path, Body(path == "/v1/messages" ? "messages-passthrough" : "chat", "x"u8.ToArray()), coding);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);
        var (type, message, code) = ErrorOf(path, text);
        Assert.Equal("invalid_request_error", type);
        Assert.Contains($"`{coding}`", message, StringComparison.Ordinal);
        Assert.Contains("gzip, deflate, br, zstd", message, StringComparison.Ordinal);
        if (code is not null) Assert.Equal("unsupported_content_encoding", code);
        Assert.Equal(0, UpstreamCalls);
    }

    [Theory]
    [InlineData("gzip", "/v1/chat/completions")]
    [InlineData("deflate", "/v1/chat/completions")]
    [InlineData("br", "/v1/chat/completions")]
    [InlineData("zstd", "/v1/chat/completions")]
    [InlineData("zstd", "/v1/messages")]
    public async Task Corrupt_compressed_data_is_a_400(string coding, string path)
    {
        var good = Compress(coding, Body(path == "/v1/messages" ? "messages-passthrough" : "chat", "x"u8.ToArray()));
        // Keep the format's header, garble the rest.
        var corrupt = good.ToArray();
        for (var i = 4; i < corrupt.Length; i++) corrupt[i] ^= 0x5A;
        var (status, text) = await PostAsync(path, corrupt, coding);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var (type, _, code) = ErrorOf(path, text);
        Assert.Equal("invalid_request_error", type);
        if (code is not null) Assert.True(code is "invalid_content_encoding" or "invalid_json" or "invalid_utf8", code);
        Assert.Equal(0, UpstreamCalls);
    }

    [Fact]
    public async Task Invalid_utf8_inside_a_compressed_body_is_still_refused()
    {
        var (status, text) = await PostAsync("/v1/chat/completions", Compress("zstd", Body("chat", [0xC0, 0xAF])), "zstd");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_utf8", ErrorOf("/v1/chat/completions", text).Code);
        Assert.Equal(0, UpstreamCalls);
    }
}
