using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Json;
using LLMux.Providers.Modes;

namespace LLMux.Providers.Mock;

/// <summary>
/// The mock's answers for the modes beyond chat and embeddings, on OpenAI's wire (Cohere's for rerank): real images
/// (PNG), real audio (WAV, PCM, silent MP3), deterministic transcripts, moderation and rerank scores — enough to try
/// every endpoint with no key and to test clients against it.
/// </summary>
internal static class MockModes
{
    public static HttpResponseMessage Images(JsonElement root)
    {
        var n = root.TryGetProperty("n", out var nv) && nv.TryGetInt32(out var ni) ? Math.Clamp(ni, 1, 10) : 1;
        var prompt = root.TryGetProperty("prompt", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString()! : "";
        var size = root.TryGetProperty("size", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
        var url = root.TryGetProperty("response_format", out var rf) && rf.ValueEquals("url");
        return ImagesAnswer(n, prompt, size, url);
    }

    public static async Task<HttpResponseMessage> ImageUploadAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var form = await ReadFormAsync(request, cancellationToken).ConfigureAwait(false);
        var n = int.TryParse(form.Field("n")?.Text, out var ni) ? Math.Clamp(ni, 1, 10) : 1;
        var url = form.Field("response_format")?.Text == "url";
        return ImagesAnswer(n, form.Field("prompt")?.Text ?? "variation", form.Field("size")?.Text, url);
    }

    private static HttpResponseMessage ImagesAnswer(int n, string prompt, string? size, bool url)
    {
        var (width, height) = ParseSize(size);
        var png = SolidPng(width, height, ColourOf(prompt));
        var b64 = Convert.ToBase64String(png);
        var buffer = new ArrayBufferWriter<byte>(b64.Length * n + 256);
        using (var w = new Utf8JsonWriter(buffer, JsonOut.Options))
        {
            w.WriteStartObject();
            w.WriteNumber("created", 1_700_000_000);
            w.WriteStartArray("data");
            for (var i = 0; i < n; i++)
            {
                w.WriteStartObject();
                // The mock has nowhere to host a file: a url answer is a data URL of the same image.
                if (url) w.WriteString("url", "data:image/png;base64," + b64);
                else w.WriteString("b64_json", b64);
                w.WriteString("revised_prompt", prompt);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Json(HttpStatusCode.OK, buffer.WrittenSpan.ToArray());
    }

    private static (int Width, int Height) ParseSize(string? size)
    {
        if (size is not null)
        {
            var x = size.IndexOf('x');
            if (x > 0 && int.TryParse(size.AsSpan(0, x), out var w) && int.TryParse(size.AsSpan(x + 1), out var h) && w > 0 && h > 0)
                return (Math.Min(w, 2048), Math.Min(h, 2048));
        }
        return (1024, 1024);
    }

    private static (byte R, byte G, byte B) ColourOf(string text)
    {
        var hash = 2166136261u;
        foreach (var c in text) hash = (hash ^ c) * 16777619u;
        return ((byte)(hash >> 16), (byte)(hash >> 8), (byte)hash);
    }

    /// <summary>A valid PNG of one colour: IHDR, one zlib-compressed IDAT (each row: filter 0 + RGB), IEND.</summary>
    internal static byte[] SolidPng(int width, int height, (byte R, byte G, byte B) colour)
    {
        var row = new byte[1 + width * 3];
        for (var x = 0; x < width; x++) { row[1 + x * 3] = colour.R; row[2 + x * 3] = colour.G; row[3 + x * 3] = colour.B; }
        using var pixels = new MemoryStream();
        using (var z = new ZLibStream(pixels, CompressionLevel.Fastest, leaveOpen: true))
            for (var y = 0; y < height; y++) z.Write(row);
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // colour type RGB
        WriteChunk(png, "IHDR", ihdr);
        WriteChunk(png, "IDAT", pixels.ToArray());
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void WriteChunk(Stream png, string type, byte[] data)
    {
        Span<byte> head = stackalloc byte[8];
        BinaryPrimitives.WriteInt32BigEndian(head, data.Length);
        Encoding.ASCII.GetBytes(type, head[4..]);
        png.Write(head);
        png.Write(data);
        // PNG's CRC covers the type and the data.
        var crc = new System.IO.Hashing.Crc32();
        crc.Append(head[4..]);
        crc.Append(data);
        Span<byte> tail = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(tail, crc.GetCurrentHashAsUInt32());
        png.Write(tail);
    }

    /// <summary>About a third of a second per word, at most 30 s: wav and pcm carry a quiet 440 Hz tone, mp3 silent frames.</summary>
    public static HttpResponseMessage Speech(JsonElement root)
    {
        var input = root.TryGetProperty("input", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString()! : "";
        var format = root.TryGetProperty("response_format", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString()! : "mp3";
        var seconds = Math.Clamp(MockAnswer.CountWords(input) / 3.0, 0.5, 30);
        byte[] audio;
        switch (format)
        {
            case "wav": audio = Wav(Tone(seconds)); break;
            case "pcm": audio = Tone(seconds); break;
            case "mp3": audio = SilentMp3(seconds); break;
            default:
                return Json(HttpStatusCode.BadRequest, Encoding.UTF8.GetBytes(
                    "{\"error\":{\"message\":\"the mock speaks mp3, wav and pcm, not " + JsonEncodedText.Encode(format) + "\",\"type\":\"invalid_request_error\",\"param\":\"response_format\",\"code\":null}}"));
        }
        if (root.TryGetProperty("stream_format", out var sf) && sf.ValueEquals("sse"))
        {
            // OpenAI's SSE speech: the audio in base64 deltas, then the usage.
            var sse = new StringBuilder();
            for (var o = 0; o < audio.Length; o += 16 * 1024)
                sse.Append("data: {\"type\":\"speech.audio.delta\",\"audio\":\"").Append(Convert.ToBase64String(audio, o, Math.Min(16 * 1024, audio.Length - o))).Append("\"}\n\n");
            var tokens = MockAnswer.CountWords(input);
            sse.Append("data: {\"type\":\"speech.audio.done\",\"usage\":{\"input_tokens\":").Append(tokens).Append(",\"output_tokens\":").Append((int)(seconds * 50))
                .Append(",\"total_tokens\":").Append(tokens + (int)(seconds * 50)).Append("}}\n\n");
            return Sse(sse.ToString());
        }
        var content = new ByteArrayContent(audio);
        content.Headers.ContentType = new MediaTypeHeaderValue(SpeechRequest.ContentType(format));
        return new HttpResponseMessage(HttpStatusCode.OK) { Content = content };
    }

    private static HttpResponseMessage Sse(string events)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(events));
        content.Headers.ContentType = new MediaTypeHeaderValue("text/event-stream");
        return new HttpResponseMessage(HttpStatusCode.OK) { Content = content };
    }

    private const int SampleRate = 24_000;

    /// <summary>16-bit little-endian mono PCM at 24 kHz, OpenAI's <c>pcm</c> format.</summary>
    private static byte[] Tone(double seconds)
    {
        var samples = (int)(seconds * SampleRate);
        var pcm = new byte[samples * 2];
        for (var k = 0; k < samples; k++)
            BinaryPrimitives.WriteInt16LittleEndian(pcm.AsSpan(k * 2), (short)(3000 * Math.Sin(2 * Math.PI * 440 * k / SampleRate)));
        return pcm;
    }

    private static byte[] Wav(byte[] pcm)
    {
        var wav = new byte[44 + pcm.Length];
        var s = wav.AsSpan();
        "RIFF"u8.CopyTo(s);
        BinaryPrimitives.WriteInt32LittleEndian(s[4..], 36 + pcm.Length);
        "WAVEfmt "u8.CopyTo(s[8..]);
        BinaryPrimitives.WriteInt32LittleEndian(s[16..], 16);
        BinaryPrimitives.WriteInt16LittleEndian(s[20..], 1); // PCM
        BinaryPrimitives.WriteInt16LittleEndian(s[22..], 1); // mono
        BinaryPrimitives.WriteInt32LittleEndian(s[24..], SampleRate);
        BinaryPrimitives.WriteInt32LittleEndian(s[28..], SampleRate * 2);
        BinaryPrimitives.WriteInt16LittleEndian(s[32..], 2);
        BinaryPrimitives.WriteInt16LittleEndian(s[34..], 16);
        "data"u8.CopyTo(s[36..]);
        BinaryPrimitives.WriteInt32LittleEndian(s[40..], pcm.Length);
        pcm.CopyTo(s[44..]);
        return wav;
    }

    /// <summary>
    /// MPEG-1 Layer III frames at 128 kbit/s, 44.1 kHz, mono, with all-zero side information: every decoder plays them
    /// as silence. Each frame is 417 bytes and lasts 1152 samples.
    /// </summary>
    internal static byte[] SilentMp3(double seconds)
    {
        const int frameBytes = 417;
        var frames = Math.Max(1, (int)Math.Ceiling(seconds * 44_100 / 1152));
        var mp3 = new byte[frames * frameBytes];
        for (var k = 0; k < frames; k++)
        {
            var o = k * frameBytes;
            mp3[o] = 0xFF; mp3[o + 1] = 0xFB; mp3[o + 2] = 0x90; mp3[o + 3] = 0xC0;
        }
        return mp3;
    }

    /// <summary>A transcript that names what was sent, in the <c>response_format</c> asked for.</summary>
    public static async Task<HttpResponseMessage> TranscriptionAsync(HttpRequestMessage request, bool translation, CancellationToken cancellationToken)
    {
        using var form = await ReadFormAsync(request, cancellationToken).ConfigureAwait(false);
        var file = form.File("file");
        var format = form.Field("response_format")?.Text ?? "json";
        var bytes = file?.Length ?? 0;
        // A 128 kbit/s guess for compressed audio; the mock does not decode it.
        var seconds = Math.Max(1.0, Math.Round(bytes / 16_000.0, 1));
        var text = $"This is a mock {(translation ? "translation" : "transcription")} of {file?.FileName ?? "audio"} ({bytes} bytes).";
        if (form.Field("stream")?.Text == "true")
        {
            // OpenAI's streamed transcript: a delta per word, then the whole text with its usage.
            var sse = new StringBuilder();
            var words = text.Split(' ');
            for (var k = 0; k < words.Length; k++)
                sse.Append("data: {\"type\":\"transcript.text.delta\",\"delta\":").Append(JsonSerializer.Serialize(k == 0 ? words[k] : " " + words[k], MockJson.Default.String)).Append("}\n\n");
            sse.Append("data: {\"type\":\"transcript.text.done\",\"text\":").Append(JsonSerializer.Serialize(text, MockJson.Default.String))
                .Append(",\"usage\":{\"type\":\"duration\",\"seconds\":").Append(seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append("}}\n\n");
            return Sse(sse.ToString());
        }
        string body;
        var type = "text/plain";
        switch (format)
        {
            case "text": body = text + "\n"; break;
            case "srt": body = $"1\n00:00:00,000 --> {Clock(seconds, ',')}\n{text}\n\n"; break;
            case "vtt": body = $"WEBVTT\n\n00:00:00.000 --> {Clock(seconds, '.')}\n{text}\n\n"; break;
            case "verbose_json":
                type = "application/json";
                body = JsonSerializer.Serialize(new VerboseTranscript(translation ? "translate" : "transcribe", "english", seconds, text,
                    [new Segment(0, 0, 0, seconds, text)]), MockJson.Default.VerboseTranscript);
                break;
            default:
                type = "application/json";
                body = JsonSerializer.Serialize(new Transcript(text, new DurationUsage("duration", seconds)), MockJson.Default.Transcript);
                break;
        }
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.ContentType = new MediaTypeHeaderValue(type);
        return new HttpResponseMessage(HttpStatusCode.OK) { Content = content };
    }

    private static string Clock(double seconds, char comma)
    {
        var t = TimeSpan.FromSeconds(seconds);
        return $"{(int)t.TotalHours:00}:{t.Minutes:00}:{t.Seconds:00}{comma}{t.Milliseconds:000}";
    }

    private static async Task<MultipartBody> ReadFormAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var boundary = MultipartBody.BoundaryOf(request.Content?.Headers.ContentType?.ToString())
            ?? throw new InvalidOperationException("the mock got a multipart request without a boundary");
        var stream = await request.Content!.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        return await MultipartBody.ReadAsync(stream, boundary, long.MaxValue, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Words that flag each category (a small, fixed list: the mock is for trying the endpoint, not for moderating).</summary>
    private static readonly (string Category, string[] Words)[] Flags =
    [
        ("violence", ["kill", "murder", "attack", "shoot"]),
        ("harassment", ["idiot", "stupid", "loser"]),
        ("hate", ["hate"]),
        ("self-harm", ["suicide"]),
    ];

    private static readonly string[] Categories =
        ["harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent", "self-harm", "self-harm/intent",
         "self-harm/instructions", "sexual", "sexual/minors", "violence", "violence/graphic"];

    public static HttpResponseMessage Moderation(JsonElement root, string model)
    {
        var texts = new List<string>();
        if (root.TryGetProperty("input", out var input))
        {
            if (input.ValueKind == JsonValueKind.String) texts.Add(input.GetString()!);
            else if (input.ValueKind == JsonValueKind.Array)
                foreach (var e in input.EnumerateArray())
                    texts.Add(e.ValueKind == JsonValueKind.String ? e.GetString()!
                        : e.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "");
        }
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, JsonOut.Options))
        {
            w.WriteStartObject();
            w.WriteString("id", "modr-mock");
            w.WriteString("model", model);
            w.WriteStartArray("results");
            foreach (var text in texts)
            {
                var hits = new HashSet<string>(StringComparer.Ordinal);
                foreach (var word in Words(text))
                    foreach (var (category, words) in Flags)
                        if (Array.IndexOf(words, word) >= 0) hits.Add(category);
                w.WriteStartObject();
                w.WriteBoolean("flagged", hits.Count > 0);
                w.WriteStartObject("categories");
                foreach (var c in Categories) w.WriteBoolean(c, hits.Contains(c));
                w.WriteEndObject();
                w.WriteStartObject("category_scores");
                foreach (var c in Categories) w.WriteNumber(c, hits.Contains(c) ? 0.97 : 0.0001);
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Json(HttpStatusCode.OK, buffer.WrittenSpan.ToArray());
    }

    /// <summary>Cohere's answer shape: each document scored by the share of the query's words it contains.</summary>
    public static HttpResponseMessage Rerank(JsonElement root)
    {
        var query = root.TryGetProperty("query", out var q) && q.ValueKind == JsonValueKind.String ? q.GetString()! : "";
        var queryWords = new HashSet<string>(Words(query), StringComparer.Ordinal);
        var scored = new List<(int Index, double Score)>();
        if (root.TryGetProperty("documents", out var docs) && docs.ValueKind == JsonValueKind.Array)
        {
            var index = 0;
            foreach (var d in docs.EnumerateArray())
            {
                var text = d.ValueKind == JsonValueKind.String ? d.GetString()! : d.GetRawText();
                var docWords = new HashSet<string>(Words(text), StringComparer.Ordinal);
                var shared = 0;
                foreach (var word in queryWords) if (docWords.Contains(word)) shared++;
                scored.Add((index++, queryWords.Count == 0 ? 0 : Math.Round((double)shared / queryWords.Count, 4)));
            }
        }
        // Best first; equal scores keep the documents' order.
        scored.Sort(static (a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Index.CompareTo(b.Index));
        var topN = root.TryGetProperty("top_n", out var tn) && tn.TryGetInt32(out var t) && t > 0 ? Math.Min(t, scored.Count) : scored.Count;
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, JsonOut.Options))
        {
            w.WriteStartObject();
            w.WriteString("id", "rerank-mock");
            w.WriteStartArray("results");
            for (var k = 0; k < topN; k++)
            {
                w.WriteStartObject();
                w.WriteNumber("index", scored[k].Index);
                w.WriteNumber("relevance_score", scored[k].Score);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartObject("meta");
            w.WriteStartObject("billed_units");
            w.WriteNumber("search_units", 1);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Json(HttpStatusCode.OK, buffer.WrittenSpan.ToArray());
    }

    private static IEnumerable<string> Words(string text)
    {
        foreach (var w in text.Split([' ', '\t', '\n', '\r', ',', '.', '!', '?', ';', ':', '"', '\'', '(', ')', '[', ']', '{', '}'], StringSplitOptions.RemoveEmptyEntries))
            yield return w.ToLowerInvariant();
    }

    private static HttpResponseMessage Json(HttpStatusCode status, byte[] json)
    {
        var content = new ByteArrayContent(json);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return new HttpResponseMessage(status) { Content = content };
    }
}

internal sealed record Transcript(string Text, DurationUsage Usage);
internal sealed record DurationUsage(string Type, double Seconds);
internal sealed record VerboseTranscript(string Task, string Language, double Duration, string Text, Segment[] Segments);
internal sealed record Segment(int Id, int Seek, double Start, double End, string Text);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower)]
[System.Text.Json.Serialization.JsonSerializable(typeof(Transcript))]
[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
[System.Text.Json.Serialization.JsonSerializable(typeof(VerboseTranscript))]
internal sealed partial class MockJson : System.Text.Json.Serialization.JsonSerializerContext;
