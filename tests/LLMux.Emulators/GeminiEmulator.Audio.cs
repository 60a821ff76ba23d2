using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace LLMux.Emulators;

/// <summary>
/// Gemini's audio over generateContent, as the speech-generation and audio-understanding guides describe it: a TTS model
/// (name with <c>tts</c>) with <c>responseModalities: ["AUDIO"]</c> and a prebuilt <c>voiceName</c> answers 24 kHz 16-bit
/// mono PCM in <c>inlineData</c> (<c>audio/L16;codec=pcm;rate=24000</c>) with AUDIO output token details (25 tokens a
/// second); a request with an <c>audio/*</c> inlineData part is answered with <see cref="Transcript"/> when it is set.
/// </summary>
public sealed partial class GeminiEmulator
{
    /// <summary>Gemini's prebuilt voices.</summary>
    public static readonly string[] Voices =
    [
        "Zephyr", "Puck", "Charon", "Kore", "Fenrir", "Leda", "Orus", "Aoede", "Callirrhoe", "Autonoe", "Enceladus", "Iapetus",
        "Umbriel", "Algieba", "Despina", "Erinome", "Algenib", "Rasalgethi", "Laomedeia", "Achernar", "Alnilam", "Schedar",
        "Gacrux", "Pulcherrima", "Achird", "Zubenelgenubi", "Vindemiatrix", "Sadachbia", "Sadaltager", "Sulafat",
    ];

    /// <summary>When set, requests carrying audio are answered with this text.</summary>
    public string? Transcript { get; set; }

    /// <summary>The decoded audio and media type of the last request that carried audio, and its text prompt.</summary>
    public byte[] LastInlineAudio { get; private set; } = [];
    public string? LastInlineMime { get; private set; }
    public string? LastPrompt { get; private set; }

    /// <summary>Audio input tokens the emulator counts for <paramref name="bytes"/> bytes of upload (25 a second of 16 kHz 16-bit audio).</summary>
    public static long AudioTokensFor(long bytes) => Math.Max(1, bytes * 25 / 32000);

    /// <summary>The PCM the emulator speaks for <paramref name="text"/>: 20 ms (480 samples) a character.</summary>
    public static byte[] SpeechPcm(string text)
    {
        var pcm = new byte[text.Length * 960];
        for (var i = 0; i < text.Length * 480; i++)
        {
            var sample = (short)((i * 37 + text[i / 480]) % 2000 - 1000);
            pcm[2 * i] = (byte)sample;
            pcm[2 * i + 1] = (byte)(sample >> 8);
        }
        return pcm;
    }

    /// <summary>Audio output tokens for <paramref name="text"/>'s speech (25 a second).</summary>
    public static long SpeechTokensFor(string text) => Math.Max(1, text.Length / 2);

    private async Task<bool> AnswerAudioAsync(HttpContext http, RecordedRequest request, JsonObject body)
    {
        var path = request.Path;
        var model = path[(path.LastIndexOf("/models/", StringComparison.Ordinal) + 8)..path.LastIndexOf(':')];
        var config = body["generationConfig"] as JsonObject;
        var modalities = config?["responseModalities"]?.AsArray().Select(static m => m?.GetValue<string>()).ToList() ?? [];
        var tts = model.Contains("tts", StringComparison.Ordinal);
        if (modalities.Contains("AUDIO") || tts)
        {
            if (!tts)
            {
                await ErrorAsync(http, 400, "INVALID_ARGUMENT", "The requested combination of response modalities (AUDIO) is not supported by the model.").ConfigureAwait(false);
                return true;
            }
            if (!modalities.Contains("AUDIO"))
            {
                await ErrorAsync(http, 400, "INVALID_ARGUMENT", "Model does not support the requested response modalities: text").ConfigureAwait(false);
                return true;
            }
            var voice = config?["speechConfig"]?["voiceConfig"]?["prebuiltVoiceConfig"]?["voiceName"]?.GetValue<string>();
            if (voice is not null && !Voices.Contains(voice, StringComparer.OrdinalIgnoreCase))
            {
                await ErrorAsync(http, 400, "INVALID_ARGUMENT", $"Voice name {voice} is not supported.").ConfigureAwait(false);
                return true;
            }
            var text = string.Concat(body["contents"]?.AsArray().SelectMany(static c => c?["parts"]?.AsArray() ?? []).Select(static p => p?["text"]?.GetValue<string>() ?? "") ?? []);
            LastPrompt = text;
            var promptTokens = Math.Max(1, text.Length / 4);
            var audioTokens = SpeechTokensFor(text);
            var answer = new JsonObject
            {
                ["candidates"] = new JsonArray(new JsonObject
                {
                    ["content"] = new JsonObject
                    {
                        ["parts"] = new JsonArray(new JsonObject
                        {
                            ["inlineData"] = new JsonObject { ["mimeType"] = "audio/L16;codec=pcm;rate=24000", ["data"] = Convert.ToBase64String(SpeechPcm(text)) },
                        }),
                        ["role"] = "model",
                    },
                    ["finishReason"] = "STOP",
                    ["index"] = 0,
                }),
                ["usageMetadata"] = new JsonObject
                {
                    ["promptTokenCount"] = promptTokens,
                    ["candidatesTokenCount"] = audioTokens,
                    ["totalTokenCount"] = promptTokens + audioTokens,
                    ["promptTokensDetails"] = new JsonArray(new JsonObject { ["modality"] = "TEXT", ["tokenCount"] = promptTokens }),
                    ["candidatesTokensDetails"] = new JsonArray(new JsonObject { ["modality"] = "AUDIO", ["tokenCount"] = audioTokens }),
                },
                ["modelVersion"] = model,
                ["responseId"] = "tts-emu-1",
            };
            http.Response.ContentType = "application/json; charset=UTF-8";
            await http.Response.WriteAsync(answer.ToJsonString(), http.RequestAborted).ConfigureAwait(false);
            return true;
        }

        if (Transcript is null) return false;
        var parts = body["contents"]?.AsArray().SelectMany(static c => c?["parts"]?.AsArray() ?? []).ToList() ?? [];
        var audio = parts.Select(static p => p?["inlineData"]).FirstOrDefault(static d => d?["mimeType"]?.GetValue<string>().StartsWith("audio/", StringComparison.Ordinal) == true);
        if (audio is null) return false;
        LastInlineMime = audio["mimeType"]!.GetValue<string>();
        try
        {
            LastInlineAudio = Convert.FromBase64String(audio["data"]?.GetValue<string>() ?? "");
        }
        catch (FormatException)
        {
            await ErrorAsync(http, 400, "INVALID_ARGUMENT", "Invalid value at 'contents[0].parts[1].inline_data.data' (TYPE_BYTES), Base64 decoding failed").ConfigureAwait(false);
            return true;
        }
        LastPrompt = string.Concat(parts.Select(static p => p?["text"]?.GetValue<string>() ?? ""));
        var textTokens = Math.Max(1, LastPrompt.Length / 4);
        var audioIn = AudioTokensFor(LastInlineAudio.Length);
        var outTokens = Math.Max(1, Transcript.Length / 4);
        var result = new JsonObject
        {
            ["candidates"] = new JsonArray(new JsonObject
            {
                ["content"] = new JsonObject { ["parts"] = new JsonArray(new JsonObject { ["text"] = Transcript }), ["role"] = "model" },
                ["finishReason"] = "STOP",
                ["index"] = 0,
            }),
            ["usageMetadata"] = new JsonObject
            {
                ["promptTokenCount"] = textTokens + audioIn,
                ["candidatesTokenCount"] = outTokens,
                ["totalTokenCount"] = textTokens + audioIn + outTokens,
                ["promptTokensDetails"] = new JsonArray(
                    new JsonObject { ["modality"] = "TEXT", ["tokenCount"] = textTokens },
                    new JsonObject { ["modality"] = "AUDIO", ["tokenCount"] = audioIn }),
            },
            ["modelVersion"] = model,
            ["responseId"] = "stt-emu-1",
        };
        http.Response.ContentType = "application/json; charset=UTF-8";
        await http.Response.WriteAsync(result.ToJsonString(), http.RequestAborted).ConfigureAwait(false);
        return true;
    }
}
