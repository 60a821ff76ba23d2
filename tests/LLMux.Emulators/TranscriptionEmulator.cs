using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace LLMux.Emulators;

/// <summary>
/// OpenAI's <c>/v1/audio/transcriptions</c> and <c>/translations</c> (also Azure's deployment paths and Groq's): reads the
/// multipart upload as the real API does and answers in the asked <c>response_format</c> — json with duration usage,
/// verbose_json with segments and words, text / srt / vtt as <c>text/plain</c> — or, with <c>stream=true</c>, the SSE
/// <c>transcript.text.delta</c> … <c>transcript.text.done</c> events. The raw body is recorded for byte checks.
/// </summary>
public sealed class TranscriptionEmulator : EmulatorHost
{
    public const string Text = "The quick brown fox jumped over the lazy dog.";
    public double Duration { get; set; } = 8.47;
    public (int Status, string Body)? NextError { get; set; }
    /// <summary>The fields of the last upload (repeated ones in order), and its file bytes.</summary>
    public List<(string Name, string Value)> LastFields { get; } = [];
    public byte[] LastFile { get; private set; } = [];

    public string ApiBase => new Uri(Root, "/v1").ToString();

    public static async Task<TranscriptionEmulator> StartNewAsync()
    {
        var e = new TranscriptionEmulator();
        await e.StartAsync().ConfigureAwait(false);
        return e;
    }

    protected override async Task AnswerAsync(HttpContext http, RecordedRequest request)
    {
        if (NextError is { } error)
        {
            NextError = null;
            http.Response.StatusCode = error.Status;
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(error.Body, http.RequestAborted).ConfigureAwait(false);
            return;
        }
        var boundary = HeaderUtilities.RemoveQuotes(MediaTypeHeaderValue.Parse(http.Request.ContentType).Boundary).Value!;
        var reader = new MultipartReader(boundary, new MemoryStream(request.Body));
        LastFields.Clear();
        LastFile = [];
        while (await reader.ReadNextSectionAsync(http.RequestAborted).ConfigureAwait(false) is { } section)
        {
            var disposition = ContentDispositionHeaderValue.Parse(section.ContentDisposition);
            using var ms = new MemoryStream();
            await section.Body.CopyToAsync(ms, http.RequestAborted).ConfigureAwait(false);
            if (disposition.FileName.HasValue) LastFile = ms.ToArray();
            else LastFields.Add((HeaderUtilities.RemoveQuotes(disposition.Name).Value!, Encoding.UTF8.GetString(ms.ToArray())));
        }
        if (LastFile.Length == 0)
        {
            http.Response.StatusCode = 400;
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync("{\"error\":{\"message\":\"Could not parse multipart form\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}", http.RequestAborted).ConfigureAwait(false);
            return;
        }
        string? Field(string name) => LastFields.FirstOrDefault(f => f.Name == name).Value;
        var format = Field("response_format") ?? "json";
        var translation = request.Path.EndsWith("/translations", StringComparison.Ordinal);
        if (Field("stream") == "true")
        {
            http.Response.ContentType = "text/event-stream";
            await http.Response.StartAsync(http.RequestAborted).ConfigureAwait(false);
            foreach (var word in Text.Split(' '))
            {
                await SendAsync(http, "data: {\"type\":\"transcript.text.delta\",\"delta\":\"" + word + " \"}\n\n").ConfigureAwait(false);
            }
            await SendAsync(http, "data: {\"type\":\"transcript.text.done\",\"text\":\"" + Text + "\",\"usage\":{\"type\":\"tokens\",\"input_tokens\":14,\"input_token_details\":{\"text_tokens\":0,\"audio_tokens\":14},\"output_tokens\":10,\"total_tokens\":24}}\n\n").ConfigureAwait(false);
            return;
        }
        var duration = Duration.ToString(System.Globalization.CultureInfo.InvariantCulture);
        switch (format)
        {
            case "text":
                await PlainAsync(http, Text + "\n").ConfigureAwait(false);
                break;
            case "srt":
                await PlainAsync(http, "1\n00:00:00,000 --> 00:00:08,470\n" + Text + "\n\n").ConfigureAwait(false);
                break;
            case "vtt":
                await PlainAsync(http, "WEBVTT\n\n00:00:00.000 --> 00:00:08.470\n" + Text + "\n\n").ConfigureAwait(false);
                break;
            case "verbose_json":
                var words = Field("timestamp_granularities[]") is null ? "" : ",\"words\":[{\"word\":\"The\",\"start\":0.0,\"end\":0.24}]";
                await JsonAsync(http, "{\"task\":\"" + (translation ? "translate" : "transcribe") + "\",\"language\":\"english\",\"duration\":" + duration + ",\"text\":\"" + Text + "\"" + words
                    + ",\"segments\":[{\"id\":0,\"seek\":0,\"start\":0.0,\"end\":" + duration + ",\"text\":\" " + Text + "\",\"tokens\":[50364,440],\"temperature\":0.0,\"avg_logprob\":-0.28,\"compression_ratio\":1.2,\"no_speech_prob\":0.01}]}").ConfigureAwait(false);
                break;
            default:
                await JsonAsync(http, "{\"text\":\"" + Text + "\",\"usage\":{\"type\":\"duration\",\"seconds\":" + Math.Ceiling(Duration).ToString(System.Globalization.CultureInfo.InvariantCulture) + "}}").ConfigureAwait(false);
                break;
        }
    }

    private static async Task PlainAsync(HttpContext http, string body)
    {
        http.Response.ContentType = "text/plain; charset=utf-8";
        await http.Response.WriteAsync(body, http.RequestAborted).ConfigureAwait(false);
    }

    private static async Task JsonAsync(HttpContext http, string body)
    {
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(body, http.RequestAborted).ConfigureAwait(false);
    }

    private static async Task SendAsync(HttpContext http, string frame)
    {
        await http.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(frame), http.RequestAborted).ConfigureAwait(false);
        await http.Response.Body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
    }
}
