using System.ClientModel;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Stages.Accounting;
using LLMux.Tests.Infrastructure;
using OpenAI.Audio;

namespace LLMux.Tests.Modes;

/// <summary>The OpenAI .NET SDK's <see cref="AudioClient"/> transcriptions and translations, and raw multipart bodies checked byte for byte at the upstream.</summary>
public sealed class TranscriptionsTests : IAsyncLifetime
{
    private TranscriptionEmulator _upstream = null!;
    private GatewayHost _gateway = null!;

    /// <summary>A short WAV file: RIFF header, then silence.</summary>
    private static readonly byte[] Wav = [.. "RIFF"u8, 36, 8, 0, 0, .. "WAVEfmt "u8, 16, 0, 0, 0, 1, 0, 1, 0, 0x80, 0x3E, 0, 0, 0, 0x7D, 0, 0, 2, 0, 16, 0, .. "data"u8, 0, 8, 0, 0, .. new byte[2048]];

    public async Task InitializeAsync()
    {
        _upstream = await TranscriptionEmulator.StartNewAsync();
        _gateway = await GatewayHost.StartAsync(Config(_upstream, 64));
    }

    private static string Config(TranscriptionEmulator upstream, int maxMb) => $"""
        general_settings:
          max_request_size_mb: {maxMb}
        router_settings:
          num_retries: 0
        model_list:
          - model_name: whisper
            litellm_params:
              model: openai/whisper-1
              api_base: {upstream.ApiBase}
              api_key: sk-stt
          - model_name: azure-whisper
            litellm_params:
              model: azure/my-whisper
              api_base: {upstream.Root.ToString().TrimEnd('/')}
              api_key: az-key
          - model_name: groq-whisper
            litellm_params:
              model: groq/whisper-large-v3
              api_base: {upstream.ApiBase}
              api_key: gsk-key
          - model_name: chat
            litellm_params:
              model: anthropic/claude-3-5-haiku-20241022
              api_base: {upstream.Root.ToString().TrimEnd('/')}
              api_key: sk-ant
        """;

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private AudioClient Audio(string model) => _gateway.OpenAI().GetAudioClient(model);

    [Fact]
    public async Task Sdk_transcribes_with_verbose_json_and_every_timestamp_granularity_kept()
    {
        var options = new AudioTranscriptionOptions
        {
            ResponseFormat = AudioTranscriptionFormat.Verbose,
            Language = "en",
            Prompt = "foxes",
            Temperature = 0.2f,
            TimestampGranularities = AudioTimestampGranularities.Word | AudioTimestampGranularities.Segment,
        };
        ClientResult<AudioTranscription> result = await Audio("whisper").TranscribeAudioAsync(new MemoryStream(Wav), "speech.wav", options);
        Assert.Equal(TranscriptionEmulator.Text, result.Value.Text);
        Assert.Equal(TimeSpan.FromSeconds(8.47), result.Value.Duration);
        Assert.NotEmpty(result.Value.Words);
        var cost = decimal.Parse(result.GetRawResponse().Headers.TryGetValue("x-llmux-response-cost", out var c) ? c! : "-1", CultureInfo.InvariantCulture);
        var price = PriceTable.Default.Find("openai", "whisper-1")!;
        Assert.Equal((price.OutputPerSecond ?? price.InputPerSecond!.Value) * 8.47m, cost);

        var sent = Assert.Single(_upstream.Requests);
        Assert.Equal("/v1/audio/transcriptions", sent.Path);
        Assert.Equal("Bearer sk-stt", sent.Headers["authorization"]);
        Assert.Equal(Wav, _upstream.LastFile);
        Assert.Equal(["word", "segment"], _upstream.LastFields.Where(static f => f.Name == "timestamp_granularities[]").Select(static f => f.Value).ToArray());
        Assert.Equal("whisper-1", _upstream.LastFields.Single(static f => f.Name == "model").Value);
        Assert.Equal("en", _upstream.LastFields.Single(static f => f.Name == "language").Value);
    }

    [Fact]
    public async Task Sdk_translation_and_text_formats_come_back_as_the_upstream_wrote_them()
    {
        ClientResult<AudioTranslation> result = await Audio("whisper").TranslateAudioAsync(new MemoryStream(Wav), "speech.mp3", new AudioTranslationOptions { ResponseFormat = AudioTranslationFormat.Text });
        Assert.Equal(TranscriptionEmulator.Text, result.Value.Text.Trim());
        Assert.Equal("/v1/audio/translations", Assert.Single(_upstream.Requests).Path);

        using var content = Multipart("whisper", Wav, "speech.wav", ("response_format", "srt"));
        using var srt = await _gateway.Http.PostAsync("/v1/audio/transcriptions", content);
        Assert.Equal(HttpStatusCode.OK, srt.StatusCode);
        Assert.Equal("text/plain", srt.Content.Headers.ContentType!.MediaType);
        Assert.StartsWith("1\n00:00:00,000 --> ", await srt.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static MultipartFormDataContent Multipart(string model, byte[] file, string fileName, params (string Name, string Value)[] fields)
    {
        var content = new MultipartFormDataContent("llmux-test-boundary-7d9f");
        var filePart = new ByteArrayContent(file);
        filePart.Headers.ContentType = new MediaTypeHeaderValue("audio/wav");
        content.Add(filePart, "file", fileName);
        content.Add(new StringContent(model), "model");
        foreach (var (name, value) in fields) content.Add(new StringContent(value), name);
        return content;
    }

    [Fact]
    public async Task Multipart_body_reaches_the_upstream_byte_for_byte_with_only_the_model_rewritten()
    {
        var audio = new byte[300_000];
        new Random(17).NextBytes(audio);
        "RIFF"u8.CopyTo(audio);
        "WAVE"u8.CopyTo(audio.AsSpan(8));
        using var content = Multipart("whisper", audio, "long.wav", ("timestamp_granularities[]", "word"), ("timestamp_granularities[]", "segment"), ("response_format", "verbose_json"), ("prompt", "naïve café"));
        var clientBytes = await content.ReadAsByteArrayAsync();
        using var sent = new ByteArrayContent(clientBytes);
        sent.Headers.ContentType = content.Headers.ContentType;
        using var response = await _gateway.Http.PostAsync("/v1/audio/transcriptions", sent);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var upstream = Assert.Single(_upstream.Requests);
        var expected = Replace(clientBytes, "\r\n\r\nwhisper\r\n"u8.ToArray(), "\r\n\r\nwhisper-1\r\n"u8.ToArray());
        Assert.Equal(expected.Length, upstream.Body.Length);
        Assert.True(expected.AsSpan().SequenceEqual(upstream.Body), "the upstream body differs from the client's beyond the model value");
        Assert.StartsWith("multipart/form-data; boundary=llmux-test-boundary-7d9f", upstream.Headers["content-type"], StringComparison.Ordinal);
    }

    private static byte[] Replace(byte[] source, byte[] from, byte[] to)
    {
        var i = source.AsSpan().IndexOf(from);
        Assert.True(i >= 0);
        return [.. source.AsSpan(0, i), .. to, .. source.AsSpan(i + from.Length)];
    }

    [Fact]
    public async Task Stream_true_passes_the_transcript_events_through()
    {
        using var content = Multipart("whisper", Wav, "speech.wav", ("stream", "true"));
        using var response = await _gateway.Http.PostAsync("/v1/audio/transcriptions", content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        var events = SseFrames.Json(await response.Content.ReadAsStringAsync());
        Assert.Equal("transcript.text.done", events[^1].GetProperty("type").GetString());
        Assert.Equal(TranscriptionEmulator.Text, string.Concat(events.Where(static e => e.GetProperty("type").GetString() == "transcript.text.delta").Select(static e => e.GetProperty("delta").GetString())).Trim());
    }

    [Fact]
    public async Task Azure_and_groq_reach_their_paths()
    {
        using (var azure = await _gateway.Http.PostAsync("/v1/audio/transcriptions", Multipart("azure-whisper", Wav, "a.wav")))
            Assert.Equal(HttpStatusCode.OK, azure.StatusCode);
        using (var groq = await _gateway.Http.PostAsync("/v1/audio/transcriptions", Multipart("groq-whisper", Wav, "a.wav")))
            Assert.Equal(HttpStatusCode.OK, groq.StatusCode);
        var sent = _upstream.Requests.ToArray();
        Assert.StartsWith("/openai/deployments/my-whisper/audio/transcriptions", sent[0].Path, StringComparison.Ordinal);
        Assert.Equal("az-key", sent[0].Headers["api-key"]);
        Assert.Equal("/v1/audio/transcriptions", sent[1].Path);
    }

    [Fact]
    public async Task A_field_the_provider_lacks_is_refused_before_any_call()
    {
        using var response = await _gateway.Http.PostAsync("/v1/audio/transcriptions", Multipart("groq-whisper", Wav, "a.wav", ("include[]", "logprobs")));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("include", error.GetProperty("param").GetString());
        Assert.Contains("groq", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task Bad_uploads_are_400_before_any_call()
    {
        async Task<string?> ParamOf(HttpContent content)
        {
            using var response = await _gateway.Http.PostAsync("/v1/audio/transcriptions", content);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("param").GetString();
        }
        Assert.Equal("file", await ParamOf(Multipart("whisper", [], "empty.wav")));
        Assert.Equal("file", await ParamOf(Multipart("whisper", "not audio at all"u8.ToArray(), "notes.txt")));
        Assert.Equal("response_format", await ParamOf(Multipart("whisper", Wav, "a.wav", ("response_format", "xml"))));
        Assert.Equal("timestamp_granularities", await ParamOf(Multipart("whisper", Wav, "a.wav", ("timestamp_granularities[]", "word"))));
        Assert.Equal("temperature", await ParamOf(Multipart("whisper", Wav, "a.wav", ("temperature", "3"))));
        var noFile = new MultipartFormDataContent { { new StringContent("whisper"), "model" } };
        Assert.Equal("file", await ParamOf(noFile));
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task A_provider_without_transcription_is_refused_naming_the_mode()
    {
        using var response = await _gateway.Http.PostAsync("/v1/audio/transcriptions", Multipart("chat", Wav, "a.wav"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("does not support audio_transcription", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task Uploads_over_max_request_size_mb_are_413_json_and_never_reach_the_upstream()
    {
        await using var small = await GatewayHost.StartAsync(Config(_upstream, 1));
        var audio = new byte[(int)(1.5 * 1024 * 1024)];
        "RIFF"u8.CopyTo(audio);
        // Chunked (no Content-Length): the limit is enforced while the body streams in.
        using var content = new PushedContent(Multipart("whisper", audio, "big.wav"));
        using var response = await small.Http.PostAsync("/v1/audio/transcriptions", content);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("request_too_large", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task Fireworks_transcriptions_go_to_its_audio_host_unless_api_base_is_set()
    {
        var text = "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n\r\nRIFF0000WAVE\r\n--b\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nm\r\n--b--\r\n";
        using var body = await LLMux.Providers.Modes.MultipartBody.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(text)), "b", 1 << 20, default);
        var provider = new LLMux.Providers.ProviderCatalog().Find("fireworks_ai")!;
        var context = new LLMux.Pipeline.Context.LlmContext
        {
            Mode = LLMux.Pipeline.Capabilities.LlmMode.AudioTranscription,
            ModeRequest = new LLMux.Pipeline.Context.ModeRequest { Parsed = LLMux.Providers.Modes.TranscriptionRequest.From(body, translation: false) },
            Deployment = new LLMux.Pipeline.Context.Deployment
            {
                ModelName = "fw", Model = "fireworks_ai/whisper-v3", ProviderName = "fireworks_ai", UpstreamModel = "whisper-v3", Provider = provider, Id = "d1",
                ApiKey = LLMux.Pipeline.Context.Secret.From("fw-key"),
            },
        };
        using var request = provider.CreateRequest(context);
        Assert.Equal("https://audio-prod.api.fireworks.ai/v1/audio/transcriptions", request.RequestUri!.ToString());
        Assert.Equal("Bearer fw-key", request.Headers.Authorization!.ToString());
    }

    [Fact]
    public async Task A_retry_sends_the_same_upload_again_from_the_spool()
    {
        await using var retrying = await GatewayHost.StartAsync(Config(_upstream, 64).Replace("num_retries: 0", "num_retries: 1", StringComparison.Ordinal));
        _upstream.NextError = (500, """{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}""");
        using var response = await retrying.Http.PostAsync("/v1/audio/transcriptions", Multipart("whisper", Wav, "speech.wav"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("2", response.Headers.GetValues("x-llmux-attempts").Single());
        var sent = _upstream.Requests.ToArray();
        Assert.Equal(2, sent.Length);
        Assert.Equal(sent[0].Body, sent[1].Body);
        Assert.Equal(Wav, _upstream.LastFile);
    }

    /// <summary>Sends another content's bytes without a Content-Length (chunked).</summary>
    private sealed class PushedContent : HttpContent
    {
        private readonly HttpContent _inner;

        public PushedContent(HttpContent inner)
        {
            _inner = inner;
            Headers.ContentType = inner.Headers.ContentType;
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context) => await _inner.CopyToAsync(stream);
        protected override bool TryComputeLength(out long length) { length = -1; return false; }
        protected override void Dispose(bool disposing) { if (disposing) _inner.Dispose(); base.Dispose(disposing); }
    }
}
