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

/// <summary>The OpenAI .NET SDK's <see cref="AudioClient"/> → LLMux → Gemini TTS and Gemini transcription (AI Studio and Vertex, emulated).</summary>
public sealed class GeminiAudioTests : IAsyncLifetime
{
    private const string Tts = "gemini-2.5-flash-preview-tts";
    private GeminiEmulator _upstream = null!;
    private GatewayHost _gateway = null!;
    private string _credentials = "";

    /// <summary>A short 16 kHz mono WAV: RIFF header, then 2048 bytes of samples.</summary>
    private static readonly byte[] Wav = [.. "RIFF"u8, 36, 8, 0, 0, .. "WAVEfmt "u8, 16, 0, 0, 0, 1, 0, 1, 0, 0x80, 0x3E, 0, 0, 0, 0x7D, 0, 0, 2, 0, 16, 0, .. "data"u8, 0, 8, 0, 0, .. Enumerable.Range(0, 2048).Select(static i => (byte)i)];

    public async Task InitializeAsync()
    {
        _upstream = await GeminiEmulator.StartNewAsync();
        _upstream.Transcript = "The quick brown fox jumped over the lazy dog.";
        _credentials = Path.Combine(Path.GetTempPath(), $"llmux-gemini-audio-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(_credentials, _upstream.ServiceAccountJson);
        _gateway = await GatewayHost.StartAsync($"""
            router_settings:
              num_retries: 0
            model_list:
              - model_name: gemini-tts
                litellm_params:
                  model: gemini/{Tts}
                  api_base: {_upstream.GeminiApiBase}
                  api_key: {_upstream.ApiKey}
              - model_name: vertex-tts
                litellm_params:
                  model: vertex_ai/{Tts}
                  api_base: {_upstream.VertexApiBase(Tts)}
                  vertex_credentials: {_credentials}
              - model_name: gemini-stt
                litellm_params:
                  model: gemini/gemini-2.5-flash
                  api_base: {_upstream.GeminiApiBase}
                  api_key: {_upstream.ApiKey}
              - model_name: vertex-stt
                litellm_params:
                  model: vertex_ai/gemini-2.5-flash
                  api_base: {_upstream.VertexApiBase("gemini-2.5-flash")}
                  vertex_credentials: {_credentials}
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        File.Delete(_credentials);
    }

    private AudioClient Audio(string model) => _gateway.OpenAI().GetAudioClient(model);

    private static decimal CostOf(System.ClientModel.Primitives.PipelineResponse raw) =>
        decimal.Parse(raw.Headers.TryGetValue("x-llmux-response-cost", out var c) ? c! : "-1", CultureInfo.InvariantCulture);

    [Fact]
    public async Task Sdk_speech_is_gemini_pcm_wrapped_as_wav_with_the_voice_and_token_cost()
    {
        const string text = "Have a wonderful day!";
        ClientResult<BinaryData> result = await Audio("gemini-tts").GenerateSpeechAsync(text, new GeneratedSpeechVoice("Kore"),
            new SpeechGenerationOptions { ResponseFormat = GeneratedSpeechFormat.Wav });
        var audio = result.Value.ToArray();
        var pcm = GeminiEmulator.SpeechPcm(text);
        Assert.Equal(44 + pcm.Length, audio.Length);
        Assert.Equal("RIFF"u8.ToArray(), audio[..4]);
        Assert.Equal(36 + pcm.Length, BitConverter.ToInt32(audio, 4));
        Assert.Equal("WAVEfmt "u8.ToArray(), audio[8..16]);
        Assert.Equal(1, BitConverter.ToInt16(audio, 20)); // PCM
        Assert.Equal(1, BitConverter.ToInt16(audio, 22)); // mono
        Assert.Equal(24000, BitConverter.ToInt32(audio, 24));
        Assert.Equal(48000, BitConverter.ToInt32(audio, 28));
        Assert.Equal(16, BitConverter.ToInt16(audio, 34));
        Assert.Equal(pcm.Length, BitConverter.ToInt32(audio, 40));
        Assert.Equal(pcm, audio[44..]);
        var raw = result.GetRawResponse();
        Assert.Equal("audio/wav", raw.Headers.TryGetValue("Content-Type", out var ct) ? ct : null);
        var price = PriceTable.Default.Find("gemini", Tts)!;
        var promptTokens = Math.Max(1, text.Length / 4);
        Assert.Equal(promptTokens * price.InputPerToken + GeminiEmulator.SpeechTokensFor(text) * (price.OutputPerAudioToken ?? price.OutputPerToken), CostOf(raw));

        var sent = Assert.Single(_upstream.ModelRequests);
        Assert.Equal($"/v1beta/models/{Tts}:generateContent", sent.Path);
        var body = sent.Json().RootElement;
        Assert.Equal(text, body.GetProperty("contents")[0].GetProperty("parts")[0].GetProperty("text").GetString());
        var config = body.GetProperty("generationConfig");
        Assert.Equal("AUDIO", config.GetProperty("responseModalities")[0].GetString());
        Assert.Equal("Kore", config.GetProperty("speechConfig").GetProperty("voiceConfig").GetProperty("prebuiltVoiceConfig").GetProperty("voiceName").GetString());
    }

    [Fact]
    public async Task No_format_is_wav_and_pcm_is_raw_and_instructions_become_the_style_prefix_on_vertex()
    {
        using (var wav = await PostSpeechAsync("""{"model":"gemini-tts","input":"Hello","voice":"Puck"}"""))
        {
            Assert.Equal(HttpStatusCode.OK, wav.StatusCode);
            Assert.Equal("audio/wav", wav.Content.Headers.ContentType!.MediaType);
            Assert.Equal(44 + GeminiEmulator.SpeechPcm("Hello").Length, (await wav.Content.ReadAsByteArrayAsync()).Length);
        }
        using (var pcm = await PostSpeechAsync("""{"model":"vertex-tts","input":"Hello","voice":"Charon","response_format":"pcm","instructions":"Say cheerfully"}"""))
        {
            Assert.Equal(HttpStatusCode.OK, pcm.StatusCode);
            Assert.Equal("audio/pcm", pcm.Content.Headers.ContentType!.MediaType);
            Assert.Equal(GeminiEmulator.SpeechPcm("Say cheerfully: Hello"), await pcm.Content.ReadAsByteArrayAsync());
        }
        var vertex = _upstream.ModelRequests.Last();
        Assert.EndsWith($"/publishers/google/models/{Tts}:generateContent", vertex.Path, StringComparison.Ordinal);
        Assert.StartsWith("Bearer ya29.emu-", vertex.Headers["authorization"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"model":"gemini-tts","input":"Hi","voice":"Kore","response_format":"mp3"}""", "response_format", "wav")]
    [InlineData("""{"model":"gemini-tts","input":"Hi","voice":"alloy"}""", "voice", "Kore")]
    [InlineData("""{"model":"gemini-tts","input":"Hi","voice":"Kore","speed":1.5}""", "speed", "drop_params")]
    [InlineData("""{"model":"gemini-tts","input":"Hi","voice":"Kore","stream_format":"sse"}""", "stream_format", "sse")]
    [InlineData("""{"model":"gemini-stt","input":"Hi","voice":"Kore"}""", "model", "TTS model")]
    public async Task Speech_that_gemini_cannot_give_is_a_400_before_any_call(string body, string param, string hint)
    {
        using var response = await PostSpeechAsync(body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var doc = JsonDocument.Parse(text);
        Assert.Equal(param, doc.RootElement.GetProperty("error").GetProperty("param").GetString());
        Assert.Contains(hint, doc.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(_upstream.ModelRequests);
    }

    [Fact]
    public async Task Speed_is_dropped_with_a_warning_under_drop_params()
    {
        using var response = await PostSpeechAsync("""{"model":"gemini-tts","input":"Hi","voice":"Kore","speed":1.5,"drop_params":true}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("speed", response.Headers.GetValues("x-llmux-warnings").Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upstream_voice_error_reaches_the_client_as_openai_error_json()
    {
        using var response = await PostSpeechAsync("""{"model":"gemini-tts","input":"Hi","voice":"Nobody"}""");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains("Nobody", doc.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sdk_transcribes_through_generate_content_with_the_audio_inline_and_token_cost()
    {
        ClientResult<AudioTranscription> result = await Audio("gemini-stt").TranscribeAudioAsync(new MemoryStream(Wav), "speech.wav",
            new AudioTranscriptionOptions { Language = "de", Prompt = "Fuchs", Temperature = 0.3f });
        Assert.Equal(_upstream.Transcript, result.Value.Text);
        Assert.Equal(Wav, _upstream.LastInlineAudio);
        Assert.Equal("audio/wav", _upstream.LastInlineMime);
        Assert.Contains("`de`", _upstream.LastPrompt, StringComparison.Ordinal);
        Assert.Contains("Fuchs", _upstream.LastPrompt, StringComparison.Ordinal);
        var sent = Assert.Single(_upstream.ModelRequests);
        Assert.Equal("/v1beta/models/gemini-2.5-flash:generateContent", sent.Path);
        Assert.Equal(0.3, sent.Json().RootElement.GetProperty("generationConfig").GetProperty("temperature").GetDouble(), 3);

        var price = PriceTable.Default.Find("gemini", "gemini-2.5-flash")!;
        var audioTokens = GeminiEmulator.AudioTokensFor(Wav.Length);
        var textTokens = Math.Max(1, _upstream.LastPrompt!.Length / 4);
        var outTokens = Math.Max(1, _upstream.Transcript!.Length / 4);
        var expected = textTokens * price.InputPerToken + audioTokens * (price.InputPerAudioToken ?? price.InputPerToken) + outTokens * price.OutputPerToken;
        Assert.Equal(expected, CostOf(result.GetRawResponse()));
        using var answer = JsonDocument.Parse(result.GetRawResponse().Content);
        var usage = answer.RootElement.GetProperty("usage");
        Assert.Equal("tokens", usage.GetProperty("type").GetString());
        Assert.Equal(audioTokens, usage.GetProperty("input_token_details").GetProperty("audio_tokens").GetInt64());
    }

    [Fact]
    public async Task Text_verbose_json_and_translation_formats_on_vertex()
    {
        using (var text = await PostTranscriptionAsync("vertex-stt", "speech.wav", ("response_format", "text")))
        {
            Assert.Equal(HttpStatusCode.OK, text.StatusCode);
            Assert.Equal("text/plain", text.Content.Headers.ContentType!.MediaType);
            Assert.Equal(_upstream.Transcript + "\n", await text.Content.ReadAsStringAsync());
        }
        using (var verbose = await PostTranscriptionAsync("vertex-stt", "speech.wav", ("response_format", "verbose_json"), ("language", "en")))
        {
            Assert.Equal(HttpStatusCode.OK, verbose.StatusCode);
            using var doc = JsonDocument.Parse(await verbose.Content.ReadAsStringAsync());
            Assert.Equal("transcribe", doc.RootElement.GetProperty("task").GetString());
            Assert.Equal("en", doc.RootElement.GetProperty("language").GetString());
            Assert.Equal(2048 / 32000.0, doc.RootElement.GetProperty("duration").GetDouble(), 3);
        }
        ClientResult<AudioTranslation> translation = await Audio("vertex-stt").TranslateAudioAsync(new MemoryStream(Wav), "speech.flac");
        Assert.Equal(_upstream.Transcript, translation.Value.Text);
        Assert.StartsWith("Translate the speech", _upstream.LastPrompt, StringComparison.Ordinal);
        Assert.Equal("audio/flac", _upstream.LastInlineMime);
    }

    [Theory]
    [InlineData("srt", null, "response_format")]
    [InlineData("verbose_json", "word", "timestamp_granularities")]
    public async Task Timestamps_gemini_cannot_give_are_a_400_before_any_call(string format, string? granularity, string param)
    {
        var fields = new List<(string, string)> { ("response_format", format) };
        if (granularity is not null) fields.Add(("timestamp_granularities[]", granularity));
        using var response = await PostTranscriptionAsync("gemini-stt", "speech.wav", [.. fields]);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(param, doc.RootElement.GetProperty("error").GetProperty("param").GetString());
        Assert.Contains(param == "response_format" ? "timestamps" : "drop_params", doc.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(_upstream.ModelRequests);
    }

    [Fact]
    public async Task Stream_is_refused_for_gemini_transcription()
    {
        using var response = await PostTranscriptionAsync("gemini-stt", "speech.wav", ("stream", "true"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("stream", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(_upstream.ModelRequests);
    }

    private async Task<HttpResponseMessage> PostSpeechAsync(string body) =>
        await _gateway.Http.PostAsync("/v1/audio/speech", new StringContent(body, Encoding.UTF8, "application/json"));

    private async Task<HttpResponseMessage> PostTranscriptionAsync(string model, string fileName, params (string Name, string Value)[] fields)
    {
        using var content = new MultipartFormDataContent("gemini-audio-boundary");
        var file = new ByteArrayContent(Wav);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Add(file, "file", fileName);
        content.Add(new StringContent(model), "model");
        foreach (var (name, value) in fields) content.Add(new StringContent(value), name);
        return await _gateway.Http.PostAsync("/v1/audio/transcriptions", content);
    }
}
