using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace LLMux.Emulators;

/// <summary>
/// Deepgram's pre-recorded transcription (<c>POST /v1/listen?model=…</c>, developers.deepgram.com "Transcribe - pre-recorded"):
/// <c>Authorization: Token</c>, the raw audio as the body; answers <c>{metadata{request_id, duration, channels, models},
/// results{channels[{alternatives[{transcript, confidence, words[{word, start, end, confidence, punctuated_word, speaker?}],
/// paragraphs?}], detected_language?}]}}</c>; <c>diarize=true</c> adds speakers and a paragraphs transcript,
/// <c>detect_language=true</c> the detected language. Errors as <c>{err_code, err_msg, request_id}</c>.
/// </summary>
public sealed class DeepgramEmulator : EmulatorHost
{
    public const string Key = "dg-test-key";
    public static readonly string[] Words = ["the", "quick", "brown", "fox", "jumped", "over", "the", "lazy", "dog"];
    public double Duration { get; set; } = 4.25;

    /// <summary>The raw body of the last /listen call.</summary>
    public byte[] LastAudio { get; private set; } = [];

    public string ApiBase => new Uri(Root, "/v1").ToString().TrimEnd('/');

    public static async Task<DeepgramEmulator> StartNewAsync()
    {
        var e = new DeepgramEmulator();
        await e.StartAsync().ConfigureAwait(false);
        return e;
    }

    protected override async Task AnswerAsync(HttpContext http, RecordedRequest request)
    {
        http.Response.Headers["dg-request-id"] = "dg-req-" + Requests.Count;
        if (request.Headers.GetValueOrDefault("authorization") != "Token " + Key)
        {
            await ErrorAsync(http, 401, "INVALID_AUTH", "Invalid credentials.").ConfigureAwait(false);
            return;
        }
        if (request.Method != "POST" || request.Path != "/v1/listen")
        {
            await ErrorAsync(http, 404, "NOT_FOUND", "Not found.").ConfigureAwait(false);
            return;
        }
        var query = System.Web.HttpUtility.ParseQueryString(request.Query);
        if (string.IsNullOrEmpty(query["model"]))
        {
            await ErrorAsync(http, 400, "Bad Request", "No such model/language/tier combination found.").ConfigureAwait(false);
            return;
        }
        LastAudio = request.Body;
        if (request.Body.Length == 0 || !(request.Headers.GetValueOrDefault("content-type") ?? "").StartsWith("audio/", StringComparison.Ordinal))
        {
            await ErrorAsync(http, 400, "Bad Request", "Bad Request: failed to process audio: corrupt or unsupported data").ConfigureAwait(false);
            return;
        }
        var diarize = query["diarize"] == "true";
        var words = new JsonArray();
        var t = 0.5;
        for (var i = 0; i < Words.Length; i++)
        {
            var punctuated = (i == 0 ? "The" : Words[i]) + (i == Words.Length - 1 ? "." : "");
            var w = new JsonObject { ["word"] = Words[i], ["start"] = Math.Round(t, 2), ["end"] = Math.Round(t + 0.3, 2), ["confidence"] = 0.99, ["punctuated_word"] = punctuated };
            if (diarize) { w["speaker"] = i < 4 ? 0 : 1; w["speaker_confidence"] = 0.9; }
            words.Add(w);
            t += i == 3 ? 1.6 : 0.35; // a pause after "fox"
        }
        var alternative = new JsonObject { ["transcript"] = "the quick brown fox jumped over the lazy dog", ["confidence"] = 0.99, ["words"] = words };
        if (diarize)
            alternative["paragraphs"] = new JsonObject { ["transcript"] = "\nSpeaker 0: The quick brown fox\n\nSpeaker 1: jumped over the lazy dog.", ["paragraphs"] = new JsonArray() };
        var channel = new JsonObject { ["alternatives"] = new JsonArray(alternative) };
        if (query["detect_language"] == "true") channel["detected_language"] = "de";
        var answer = new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["transaction_key"] = "deprecated",
                ["request_id"] = "dg-req-" + Requests.Count,
                ["created"] = "2026-12-01T10:00:00.000Z",
                ["duration"] = Duration,
                ["channels"] = 1,
                ["models"] = new JsonArray("30089e05-99d1-4376-b32e-c263170674af"),
            },
            ["results"] = new JsonObject { ["channels"] = new JsonArray(channel) },
        };
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(answer.ToJsonString(), http.RequestAborted).ConfigureAwait(false);
    }

    private static async Task ErrorAsync(HttpContext http, int status, string code, string message)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(new JsonObject { ["err_code"] = code, ["err_msg"] = message, ["request_id"] = "dg-err-1" }.ToJsonString(), http.RequestAborted).ConfigureAwait(false);
    }
}
