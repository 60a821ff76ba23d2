using System.Text.Json;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;

namespace LLMux.Tests.Modes;

/// <summary>
/// The official <c>openai</c> npm client (pinned in tests/agents/openai-node) against LLMux's audio routes:
/// <c>audio.transcriptions.create</c> (verbose_json with word timestamps, and text) to OpenAI, Deepgram, ElevenLabs and
/// Gemini, and <c>audio.speech.create</c> to OpenAI, Gemini TTS and ElevenLabs (emulated upstreams).
/// </summary>
public sealed class OpenAINodeAudioTests : IAsyncLifetime
{
    private TranscriptionEmulator _whisper = null!;
    private SpeechEmulator _tts = null!;
    private GeminiEmulator _gemini = null!;
    private DeepgramEmulator _deepgram = null!;
    private ElevenLabsEmulator _eleven = null!;
    private GatewayHost _gateway = null!;
    private readonly string _wav = Path.Combine(Path.GetTempPath(), $"llmux-node-audio-{Guid.NewGuid():N}.wav");

    public async Task InitializeAsync()
    {
        byte[] wav = [.. "RIFF"u8, 36, 8, 0, 0, .. "WAVEfmt "u8, 16, 0, 0, 0, 1, 0, 1, 0, 0x80, 0x3E, 0, 0, 0, 0x7D, 0, 0, 2, 0, 16, 0, .. "data"u8, 0, 0x7D, 0, 0, .. new byte[32000]];
        await File.WriteAllBytesAsync(_wav, wav);
        _whisper = await TranscriptionEmulator.StartNewAsync();
        _tts = await SpeechEmulator.StartNewAsync();
        _gemini = await GeminiEmulator.StartNewAsync();
        _gemini.Transcript = "Gemini heard the fox.";
        _deepgram = await DeepgramEmulator.StartNewAsync();
        _eleven = await ElevenLabsEmulator.StartNewAsync();
        _gateway = await GatewayHost.StartAsync($$"""
            general_settings:
              master_key: sk-node-audio
            router_settings:
              num_retries: 0
            model_list:
              - model_name: whisper
                litellm_params: { model: openai/whisper-1, api_base: "{{_whisper.ApiBase}}", api_key: sk-stt }
              - model_name: nova
                litellm_params: { model: deepgram/nova-3, api_base: "{{_deepgram.ApiBase}}", api_key: {{DeepgramEmulator.Key}} }
              - model_name: scribe
                litellm_params: { model: elevenlabs/scribe_v1, api_base: "{{_eleven.ApiBase}}", api_key: {{ElevenLabsEmulator.Key}} }
              - model_name: gemini-stt
                litellm_params: { model: gemini/gemini-2.5-flash, api_base: "{{_gemini.GeminiApiBase}}", api_key: {{_gemini.ApiKey}} }
              - model_name: tts
                litellm_params: { model: openai/tts-1, api_base: "{{_tts.ApiBase}}", api_key: sk-tts }
              - model_name: gemini-tts
                litellm_params: { model: gemini/gemini-2.5-flash-preview-tts, api_base: "{{_gemini.GeminiApiBase}}", api_key: {{_gemini.ApiKey}} }
              - model_name: eleven-tts
                litellm_params: { model: elevenlabs/eleven_multilingual_v2, api_base: "{{_eleven.ApiBase}}", api_key: {{ElevenLabsEmulator.Key}} }
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        foreach (var e in new EmulatorHost[] { _whisper, _tts, _gemini, _deepgram, _eleven }) await e.DisposeAsync();
        File.Delete(_wav);
    }


    [SkippableFact]
    public async Task The_openai_npm_client_transcribes_and_speaks_through_every_audio_provider()
    {
        OpenAINodeClient.Require();
        using var doc = await OpenAINodeClient.RunAsync("audio-check.mjs", TimeSpan.FromSeconds(60), new Uri(_gateway.Root, "/v1").ToString(), "sk-node-audio", _wav, "whisper,nova,scribe,gemini-stt", "tts:alloy:wav,gemini-tts:Kore:,eleven-tts:alloy:mp3");
        var stt = doc.RootElement.GetProperty("transcriptions");

        Assert.Equal(TranscriptionEmulator.Text, stt.GetProperty("whisper").GetProperty("text").GetString());
        Assert.Equal("the quick brown fox jumped over the lazy dog", stt.GetProperty("nova").GetProperty("text").GetString());
        Assert.Equal(_deepgram.Duration, stt.GetProperty("nova").GetProperty("duration").GetDouble());
        Assert.Equal(DeepgramEmulator.Words.Length, stt.GetProperty("nova").GetProperty("words").GetInt32());
        Assert.Equal("the quick brown fox jumped over the lazy dog\n", stt.GetProperty("nova").GetProperty("plain").GetString());
        Assert.Equal(ElevenLabsEmulator.Text, stt.GetProperty("scribe").GetProperty("text").GetString());
        Assert.Equal(1.0, stt.GetProperty("scribe").GetProperty("duration").GetDouble());
        Assert.Equal(9, stt.GetProperty("scribe").GetProperty("words").GetInt32());
        // Gemini gives no timestamps: word granularity is refused (400) before any call; text works.
        Assert.Equal(400, stt.GetProperty("gemini-stt").GetProperty("error").GetInt32());
        Assert.Equal("Gemini heard the fox.\n", stt.GetProperty("gemini-stt").GetProperty("plain").GetString());

        var speech = doc.RootElement.GetProperty("speech");
        Assert.Equal("audio/wav", speech.GetProperty("tts").GetProperty("contentType").GetString());
        Assert.Equal(_tts.Audio().Length, speech.GetProperty("tts").GetProperty("length").GetInt32());
        var gemini = speech.GetProperty("gemini-tts");
        Assert.Equal("audio/wav", gemini.GetProperty("contentType").GetString());
        Assert.Equal("RIFF", gemini.GetProperty("head").GetString());
        Assert.Equal(44 + GeminiEmulator.SpeechPcm("Hello from the npm client.").Length, gemini.GetProperty("length").GetInt32());
        Assert.NotNull(gemini.GetProperty("cost").GetString());
        Assert.Equal("audio/mpeg", speech.GetProperty("eleven-tts").GetProperty("contentType").GetString());
        Assert.Equal(_eleven.Audio().Length, speech.GetProperty("eleven-tts").GetProperty("length").GetInt32());
    }
}
