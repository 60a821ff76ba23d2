using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace LLMux.Emulators;

/// <summary>
/// OpenAI's <c>/v1/audio/speech</c> (also Azure's deployment path and Groq's): chunked audio bytes with the format's
/// Content-Type, written in <see cref="Chunks"/> pieces with a flush after each; the caller can hold the last piece back
/// (<see cref="HoldLast"/>) to see that earlier bytes reached the client before the upstream finished.
/// </summary>
public sealed class SpeechEmulator : EmulatorHost
{
    public int Chunks { get; set; } = 4;
    public int ChunkSize { get; set; } = 8192;
    /// <summary>When set, the last chunk is sent only after this completes.</summary>
    public TaskCompletionSource? HoldLast { get; set; }
    public (int Status, string Body)? NextError { get; set; }

    public string ApiBase => new Uri(Root, "/v1").ToString();

    /// <summary>The bytes of the whole answer: chunk i filled with the byte <c>i + 1</c>.</summary>
    public byte[] Audio() => Enumerable.Range(0, Chunks).SelectMany(i => Enumerable.Repeat((byte)(i + 1), ChunkSize)).ToArray();

    public static async Task<SpeechEmulator> StartNewAsync()
    {
        var e = new SpeechEmulator();
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
        using var doc = JsonDocument.Parse(request.Body);
        var format = doc.RootElement.TryGetProperty("response_format", out var f) ? f.GetString() : "mp3";
        http.Response.ContentType = format switch { "opus" => "audio/opus", "aac" => "audio/aac", "flac" => "audio/flac", "wav" => "audio/wav", "pcm" => "audio/pcm", _ => "audio/mpeg" };
        await http.Response.StartAsync(http.RequestAborted).ConfigureAwait(false);
        for (var i = 0; i < Chunks; i++)
        {
            if (i == Chunks - 1 && HoldLast is { } hold) await hold.Task.WaitAsync(http.RequestAborted).ConfigureAwait(false);
            await http.Response.Body.WriteAsync(Enumerable.Repeat((byte)(i + 1), ChunkSize).ToArray(), http.RequestAborted).ConfigureAwait(false);
            await http.Response.Body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
        }
    }
}
