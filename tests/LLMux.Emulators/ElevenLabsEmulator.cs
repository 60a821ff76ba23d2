using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace LLMux.Emulators;

/// <summary>
/// ElevenLabs (elevenlabs.io/docs/api-reference): <c>xi-api-key</c>; <c>POST /v1/speech-to-text</c> (multipart <c>model_id</c>,
/// <c>file</c>, optional <c>language_code</c>, …) answers <c>{language_code, language_probability, text, words[{text, start,
/// end, type: word|spacing, logprob}]}</c>; <c>POST /v1/text-to-speech/{voice_id}?output_format=…</c> (<c>{text, model_id,
/// voice_settings?}</c>) streams the audio in <see cref="Chunks"/> flushed pieces. Errors as <c>{detail{status, message}}</c>
/// or FastAPI's 422 <c>{detail[{type, loc, msg}]}</c>.
/// </summary>
public sealed class ElevenLabsEmulator : EmulatorHost
{
    public const string Key = "xi-test-key";
    public const string Text = "The quick brown fox jumped over the lazy dog.";
    public static readonly string[] VoiceIds = ["21m00Tcm4TlvDq8ikWAM", "9BWtsMINqrJLrRacOk9x", "JBFqnCBsd6RMkjVDRZzb"];
    private static readonly string[] OutputFormats = ["mp3_22050_32", "mp3_44100_64", "mp3_44100_128", "mp3_44100_192", "pcm_16000", "pcm_22050", "pcm_24000", "pcm_44100", "opus_48000_64", "opus_48000_128", "ulaw_8000"];

    public int Chunks { get; set; } = 4;
    public int ChunkSize { get; set; } = 4096;
    /// <summary>When set, the last chunk is sent only after this completes.</summary>
    public TaskCompletionSource? HoldLast { get; set; }

    public List<(string Name, string Value)> LastFields { get; } = [];
    public byte[] LastFile { get; private set; } = [];
    public string? LastFileName { get; private set; }
    public string? LastFileType { get; private set; }

    public string ApiBase => Root.ToString().TrimEnd('/');

    public static async Task<ElevenLabsEmulator> StartNewAsync()
    {
        var e = new ElevenLabsEmulator();
        await e.StartAsync().ConfigureAwait(false);
        return e;
    }

    /// <summary>The audio the emulator speaks: chunk i filled with byte i + 1.</summary>
    public byte[] Audio() => Enumerable.Range(0, Chunks).SelectMany(i => Enumerable.Repeat((byte)(i + 1), ChunkSize)).ToArray();

    protected override async Task AnswerAsync(HttpContext http, RecordedRequest request)
    {
        http.Response.Headers["request-id"] = "xi-req-" + Requests.Count;
        if (request.Headers.GetValueOrDefault("xi-api-key") != Key)
        {
            await DetailAsync(http, 401, "invalid_api_key", "Invalid API key").ConfigureAwait(false);
            return;
        }
        if (request.Path == "/v1/speech-to-text") await SpeechToTextAsync(http, request).ConfigureAwait(false);
        else if (request.Path.StartsWith("/v1/text-to-speech/", StringComparison.Ordinal)) await TextToSpeechAsync(http, request).ConfigureAwait(false);
        else await DetailAsync(http, 404, "not_found", "Not Found").ConfigureAwait(false);
    }

    private async Task SpeechToTextAsync(HttpContext http, RecordedRequest request)
    {
        var boundary = HeaderUtilities.RemoveQuotes(MediaTypeHeaderValue.Parse(http.Request.ContentType).Boundary).Value!;
        var reader = new MultipartReader(boundary, new MemoryStream(request.Body));
        LastFields.Clear();
        LastFile = [];
        while (await reader.ReadNextSectionAsync(http.RequestAborted).ConfigureAwait(false) is { } section)
        {
            var disposition = ContentDispositionHeaderValue.Parse(section.ContentDisposition);
            using var ms = new MemoryStream();
            await section.Body.CopyToAsync(ms, http.RequestAborted).ConfigureAwait(false);
            if (disposition.FileName.HasValue)
            {
                LastFile = ms.ToArray();
                LastFileName = HeaderUtilities.RemoveQuotes(disposition.FileName).Value;
                LastFileType = section.ContentType;
            }
            else LastFields.Add((HeaderUtilities.RemoveQuotes(disposition.Name).Value!, Encoding.UTF8.GetString(ms.ToArray())));
        }
        if (!LastFields.Any(static f => f.Name == "model_id"))
        {
            await MissingAsync(http, "model_id").ConfigureAwait(false);
            return;
        }
        if (LastFile.Length == 0)
        {
            await MissingAsync(http, "file").ConfigureAwait(false);
            return;
        }
        var words = new JsonArray();
        var t = 0.12;
        var parts = Text.Split(' ');
        for (var i = 0; i < parts.Length; i++)
        {
            if (i > 0) words.Add(new JsonObject { ["text"] = " ", ["start"] = Math.Round(t, 3), ["end"] = Math.Round(t, 3), ["type"] = "spacing", ["logprob"] = 0.0 });
            words.Add(new JsonObject { ["text"] = parts[i], ["start"] = Math.Round(t, 3), ["end"] = Math.Round(t + 0.28, 3), ["type"] = "word", ["logprob"] = -0.05, ["speaker_id"] = "speaker_0" });
            t += 0.3;
        }
        var language = LastFields.FirstOrDefault(static f => f.Name == "language_code").Value ?? "eng";
        var answer = new JsonObject { ["language_code"] = language, ["language_probability"] = 0.98, ["text"] = Text, ["words"] = words, ["transcription_id"] = "tr-emu-1" };
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(answer.ToJsonString(), http.RequestAborted).ConfigureAwait(false);
    }

    private async Task TextToSpeechAsync(HttpContext http, RecordedRequest request)
    {
        var voice = Uri.UnescapeDataString(request.Path["/v1/text-to-speech/".Length..]);
        if (!VoiceIds.Contains(voice))
        {
            await DetailAsync(http, 404, "voice_not_found", $"A voice with the voice_id {voice} was not found.").ConfigureAwait(false);
            return;
        }
        var format = System.Web.HttpUtility.ParseQueryString(request.Query)["output_format"] ?? "mp3_44100_128";
        if (!OutputFormats.Contains(format))
        {
            await DetailAsync(http, 400, "invalid_output_format", $"Invalid output format {format}").ConfigureAwait(false);
            return;
        }
        JsonElement body;
        try
        {
            body = JsonDocument.Parse(request.Body).RootElement;
        }
        catch (JsonException)
        {
            await DetailAsync(http, 400, "invalid_json", "Invalid JSON").ConfigureAwait(false);
            return;
        }
        if (!body.TryGetProperty("text", out _))
        {
            await MissingAsync(http, "text").ConfigureAwait(false);
            return;
        }
        http.Response.ContentType = format.StartsWith("mp3", StringComparison.Ordinal) ? "audio/mpeg" : format.StartsWith("opus", StringComparison.Ordinal) ? "audio/opus" : "application/octet-stream";
        await http.Response.StartAsync(http.RequestAborted).ConfigureAwait(false);
        for (var i = 0; i < Chunks; i++)
        {
            if (i == Chunks - 1 && HoldLast is { } hold) await hold.Task.WaitAsync(http.RequestAborted).ConfigureAwait(false);
            await http.Response.Body.WriteAsync(Enumerable.Repeat((byte)(i + 1), ChunkSize).ToArray(), http.RequestAborted).ConfigureAwait(false);
            await http.Response.Body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
        }
    }

    private static async Task DetailAsync(HttpContext http, int status, string code, string message)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(new JsonObject { ["detail"] = new JsonObject { ["status"] = code, ["message"] = message } }.ToJsonString(), http.RequestAborted).ConfigureAwait(false);
    }

    private static async Task MissingAsync(HttpContext http, string field)
    {
        http.Response.StatusCode = 422;
        http.Response.ContentType = "application/json";
        var detail = new JsonArray(new JsonObject { ["type"] = "missing", ["loc"] = new JsonArray("body", field), ["msg"] = "Field required", ["input"] = null });
        await http.Response.WriteAsync(new JsonObject { ["detail"] = detail }.ToJsonString(), http.RequestAborted).ConfigureAwait(false);
    }
}
