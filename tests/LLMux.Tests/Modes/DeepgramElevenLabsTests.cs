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

/// <summary>The OpenAI .NET SDK's <see cref="AudioClient"/> → LLMux → Deepgram <c>/v1/listen</c> and ElevenLabs speech-to-text and text-to-speech (emulated).</summary>
public sealed class DeepgramElevenLabsTests : IAsyncLifetime
{
    private DeepgramEmulator _deepgram = null!;
    private ElevenLabsEmulator _eleven = null!;
    private GatewayHost _gateway = null!;

    private static readonly byte[] Wav = [.. "RIFF"u8, 36, 8, 0, 0, .. "WAVEfmt "u8, 16, 0, 0, 0, 1, 0, 1, 0, 0x80, 0x3E, 0, 0, 0, 0x7D, 0, 0, 2, 0, 16, 0, .. "data"u8, 0, 0x7D, 0, 0, .. Enumerable.Range(0, 32000).Select(static i => (byte)(i * 7))];

    public async Task InitializeAsync()
    {
        _deepgram = await DeepgramEmulator.StartNewAsync();
        _eleven = await ElevenLabsEmulator.StartNewAsync();
        _gateway = await GatewayHost.StartAsync($"""
            router_settings:
              num_retries: 0
            model_list:
              - model_name: nova
                litellm_params:
                  model: deepgram/nova-3
                  api_base: {_deepgram.ApiBase}
                  api_key: {DeepgramEmulator.Key}
              - model_name: nova-badkey
                litellm_params:
                  model: deepgram/nova-3
                  api_base: {_deepgram.ApiBase}
                  api_key: wrong
              - model_name: scribe
                litellm_params:
                  model: elevenlabs/scribe_v1
                  api_base: {_eleven.ApiBase}
                  api_key: {ElevenLabsEmulator.Key}
              - model_name: eleven-tts
                litellm_params:
                  model: elevenlabs/eleven_multilingual_v2
                  api_base: {_eleven.ApiBase}
                  api_key: {ElevenLabsEmulator.Key}
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _deepgram.DisposeAsync();
        await _eleven.DisposeAsync();
    }

    private AudioClient Audio(string model) => _gateway.OpenAI().GetAudioClient(model);

    private static decimal CostOf(System.ClientModel.Primitives.PipelineResponse raw) =>
        decimal.Parse(raw.Headers.TryGetValue("x-llmux-response-cost", out var c) ? c! : "-1", CultureInfo.InvariantCulture);

    [Fact]
    public async Task Sdk_transcribes_with_deepgram_raw_body_query_params_and_per_second_cost()
    {
        ClientResult<AudioTranscription> result = await Audio("nova").TranscribeAudioAsync(new MemoryStream(Wav), "speech.wav", new AudioTranscriptionOptions
        {
            Language = "en",
            ResponseFormat = AudioTranscriptionFormat.Verbose,
            TimestampGranularities = AudioTimestampGranularities.Word,
        });
        Assert.Equal("the quick brown fox jumped over the lazy dog", result.Value.Text);
        Assert.Equal(TimeSpan.FromSeconds(_deepgram.Duration), result.Value.Duration);
        Assert.Equal(DeepgramEmulator.Words.Length, result.Value.Words.Count);
        Assert.Equal("The", result.Value.Words[0].Word);
        var price = PriceTable.Default.Find("deepgram", "nova-3")!;
        Assert.True(price.InputPerSecond > 0);
        Assert.Equal(price.InputPerSecond!.Value * (decimal)_deepgram.Duration, CostOf(result.GetRawResponse()));

        var sent = Assert.Single(_deepgram.Requests);
        Assert.Equal("/v1/listen", sent.Path);
        var query = System.Web.HttpUtility.ParseQueryString(sent.Query);
        Assert.Equal("nova-3", query["model"]);
        Assert.Equal("en", query["language"]);
        Assert.Equal("Token " + DeepgramEmulator.Key, sent.Headers["authorization"]);
        Assert.Equal("audio/wav", sent.Headers["content-type"]);
        Assert.Equal(Wav, _deepgram.LastAudio);
    }

    [Fact]
    public async Task Deepgram_extra_fields_become_query_params_and_diarized_text_comes_from_paragraphs()
    {
        using var response = await PostTranscriptionAsync("nova", ("diarize", "true"), ("smart_format", "true"), ("detect_language", "true"), ("response_format", "json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.StartsWith("Speaker 0: The quick brown fox", doc.RootElement.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Equal("duration", doc.RootElement.GetProperty("usage").GetProperty("type").GetString());
        var query = System.Web.HttpUtility.ParseQueryString(Assert.Single(_deepgram.Requests).Query);
        Assert.Equal("true", query["diarize"]);
        Assert.Equal("true", query["smart_format"]);
        Assert.Null(query["response_format"]);
    }

    [Fact]
    public async Task Srt_and_vtt_cues_are_built_from_the_word_timings()
    {
        using (var srt = await PostTranscriptionAsync("nova", ("response_format", "srt")))
        {
            Assert.Equal("text/plain", srt.Content.Headers.ContentType!.MediaType);
            // The emulator pauses 1.6 s after "fox": two cues.
            Assert.Equal("1\n00:00:00,500 --> 00:00:01,850\nThe quick brown fox\n\n2\n00:00:03,150 --> 00:00:04,850\njumped over the lazy dog.\n\n", await srt.Content.ReadAsStringAsync());
        }
        using var vtt = await PostTranscriptionAsync("scribe", ("response_format", "vtt"));
        var text = await vtt.Content.ReadAsStringAsync();
        Assert.StartsWith("WEBVTT\n\n00:00:00.120 --> ", text, StringComparison.Ordinal);
        Assert.Contains(ElevenLabsEmulator.Text, text.Replace("\n", " ", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deepgram_auth_error_is_openai_error_json_with_its_status()
    {
        using var response = await PostTranscriptionAsync("nova-badkey");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = doc.RootElement.GetProperty("error");
        Assert.Contains("Invalid credentials", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("INVALID_AUTH", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Sdk_transcribes_with_elevenlabs_multipart_fields_renamed_and_duration_cost()
    {
        ClientResult<AudioTranscription> result = await Audio("scribe").TranscribeAudioAsync(new MemoryStream(Wav), "speech.wav",
            new AudioTranscriptionOptions { Language = "en", Temperature = 0.2f });
        Assert.Equal(ElevenLabsEmulator.Text, result.Value.Text);
        Assert.Equal(Wav, _eleven.LastFile);
        Assert.Equal("speech.wav", _eleven.LastFileName);
        Assert.Equal("audio/wav", _eleven.LastFileType);
        Assert.Equal("scribe_v1", _eleven.LastFields.Single(static f => f.Name == "model_id").Value);
        Assert.Equal("en", _eleven.LastFields.Single(static f => f.Name == "language_code").Value);
        Assert.Equal("0.2", _eleven.LastFields.Single(static f => f.Name == "temperature").Value);
        Assert.DoesNotContain(_eleven.LastFields, static f => f.Name is "model" or "language" or "response_format");
        // 32000 bytes at 32000 bytes/s in the WAV header: one second.
        Assert.Equal(PriceTable.Default.Find("elevenlabs", "scribe_v1")!.InputPerSecond!.Value * 1m, CostOf(result.GetRawResponse()));
    }

    [Fact]
    public async Task Sdk_speech_from_elevenlabs_streams_with_mapped_voice_speed_format_and_character_cost()
    {
        const string text = "Hello from ElevenLabs.";
        ClientResult<BinaryData> result = await Audio("eleven-tts").GenerateSpeechAsync(text, GeneratedSpeechVoice.Alloy,
            new SpeechGenerationOptions { ResponseFormat = GeneratedSpeechFormat.Mp3, SpeedRatio = 1.1f });
        Assert.Equal(_eleven.Audio(), result.Value.ToArray());
        var raw = result.GetRawResponse();
        Assert.Equal("audio/mpeg", raw.Headers.TryGetValue("Content-Type", out var ct) ? ct : null);
        Assert.Equal(text.Length * PriceTable.Default.Find("elevenlabs", "eleven_multilingual_v2")!.InputPerCharacter!.Value, CostOf(raw));

        var sent = Assert.Single(_eleven.Requests);
        Assert.Equal("/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM", sent.Path);
        Assert.Equal("?output_format=mp3_44100_128", sent.Query);
        var body = sent.Json().RootElement;
        Assert.Equal(text, body.GetProperty("text").GetString());
        Assert.Equal("eleven_multilingual_v2", body.GetProperty("model_id").GetString());
        Assert.Equal(1.1, body.GetProperty("voice_settings").GetProperty("speed").GetDouble(), 3);
        Assert.False(body.TryGetProperty("voice", out _));
        Assert.False(body.TryGetProperty("response_format", out _));
    }

    [Fact]
    public async Task Elevenlabs_audio_reaches_the_client_before_the_upstream_has_finished_and_pcm_is_24khz()
    {
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _eleven.HoldLast = hold;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/audio/speech")
            {
                Content = new StringContent("""{"model":"eleven-tts","input":"hi","voice":"JBFqnCBsd6RMkjVDRZzb","response_format":"pcm"}""", Encoding.UTF8, "application/json"),
            };
            using var response = await _gateway.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("audio/pcm", response.Content.Headers.ContentType!.MediaType);
            await using var stream = await response.Content.ReadAsStreamAsync();
            var first = new byte[_eleven.ChunkSize];
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await stream.ReadExactlyAsync(first, deadline.Token);
            Assert.All(first, static b => Assert.Equal(1, b));
            hold.SetResult();
            var rest = new MemoryStream();
            await stream.CopyToAsync(rest, deadline.Token);
            Assert.Equal(_eleven.Audio().Length - first.Length, rest.Length);
        }
        finally
        {
            hold.TrySetResult();
            _eleven.HoldLast = null;
        }
        Assert.Equal("?output_format=pcm_24000", Assert.Single(_eleven.Requests).Query);
    }

    [Theory]
    [InlineData("""{"model":"eleven-tts","input":"hi","voice":"alloy","response_format":"wav"}""", "response_format")]
    [InlineData("""{"model":"eleven-tts","input":"hi","voice":"alloy","instructions":"calm"}""", "instructions")]
    [InlineData("""{"model":"nova","input":"hi","voice":"alloy"}""", "model")]
    public async Task Speech_elevenlabs_cannot_give_is_a_400_before_any_call(string body, string param)
    {
        using var response = await _gateway.Http.PostAsync("/v1/audio/speech", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(param, doc.RootElement.GetProperty("error").GetProperty("param").GetString());
        Assert.Empty(_eleven.Requests);
        Assert.Empty(_deepgram.Requests);
    }

    [Fact]
    public async Task Elevenlabs_unknown_voice_is_its_404_as_openai_error_json()
    {
        using var response = await _gateway.Http.PostAsync("/v1/audio/speech", new StringContent("""{"model":"eleven-tts","input":"hi","voice":"nobody"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains("nobody", doc.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("voice_not_found", doc.RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    private async Task<HttpResponseMessage> PostTranscriptionAsync(string model, params (string Name, string Value)[] fields)
    {
        using var content = new MultipartFormDataContent("dg-xi-boundary");
        var file = new ByteArrayContent(Wav);
        file.Headers.ContentType = new MediaTypeHeaderValue("audio/wav");
        content.Add(file, "file", "speech.wav");
        content.Add(new StringContent(model), "model");
        foreach (var (name, value) in fields) content.Add(new StringContent(value), name);
        return await _gateway.Http.PostAsync("/v1/audio/transcriptions", content);
    }
}
