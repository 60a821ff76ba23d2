using LLMux.Pipeline.Errors;

namespace LLMux.Providers.Modes;

/// <summary>
/// A checked <c>/v1/audio/transcriptions</c> or <c>/translations</c> upload: a non-empty <c>file</c> with a file name in a
/// known audio format, <c>model</c>, <c>response_format</c> (json, text, srt, verbose_json, vtt, diarized_json),
/// <c>temperature</c> 0–1, <c>timestamp_granularities[]</c> word/segment (with verbose_json); repeated values are kept.
/// </summary>
public sealed class TranscriptionRequest
{
    private static readonly string[] Extensions = ["flac", "mp3", "mp4", "mpeg", "mpga", "m4a", "ogg", "oga", "wav", "webm"];
    private static readonly string[] Formats = ["json", "text", "srt", "verbose_json", "vtt", "diarized_json"];

    public required MultipartBody Body { get; init; }
    public required string Model { get; init; }
    public bool Translation { get; init; }
    public bool Stream { get; init; }
    public string Format { get; init; } = "json";
    public required IReadOnlyList<string> Params { get; init; }
    public required MultipartPart File { get; init; }
    public string? Language { get; init; }
    public string? Prompt { get; init; }
    public double? Temperature { get; init; }
    public IReadOnlyList<string> Granularities { get; init; } = [];
    /// <summary>Set by a provider that builds the OpenAI answer itself (Gemini, Deepgram, ElevenLabs): the answer's Content-Type.</summary>
    public string? AnswerContentType { get; set; }

    /// <summary>The file's media type: its part's <c>audio/*</c> Content-Type, else by its extension, else by its first bytes.</summary>
    public string AudioMediaType()
    {
        if (File.ContentType is { } ct && ct.StartsWith("audio/", StringComparison.OrdinalIgnoreCase)) return ct;
        var name = File.FileName ?? "";
        var dot = name.LastIndexOf('.');
        var ext = dot >= 0 ? name[(dot + 1)..].ToLowerInvariant() : "";
        switch (ext)
        {
            case "wav": return "audio/wav";
            case "mp3" or "mpga" or "mpeg": return "audio/mp3";
            case "flac": return "audio/flac";
            case "ogg" or "oga": return "audio/ogg";
            case "m4a" or "mp4": return "audio/mp4";
            case "webm": return "audio/webm";
        }
        ReadOnlySpan<byte> h = Body.Head(File, 12);
        if (h.Length >= 12 && h.StartsWith("RIFF"u8)) return "audio/wav";
        if (h.StartsWith("fLaC"u8)) return "audio/flac";
        if (h.StartsWith("OggS"u8)) return "audio/ogg";
        if (h.Length >= 8 && h[4..8].SequenceEqual("ftyp"u8)) return "audio/mp4";
        if (h.Length >= 4 && h[0] == 0x1A && h[1] == 0x45) return "audio/webm";
        return "audio/mp3";
    }

    public static TranscriptionRequest From(MultipartBody body, bool translation)
    {
        var file = body.File("file") ?? throw LlmError.Invalid("`file` is required: the audio, as a multipart file part with a file name", "file").ToException();
        if (file.Length == 0) throw LlmError.Invalid($"`file` ({file.FileName}) is empty", "file").ToException();
        if (!KnownFormat(file.FileName!, body.Head(file, 16)))
            throw LlmError.Invalid($"`file` ({file.FileName}) is not a supported audio format; send flac, mp3, mp4, mpeg, mpga, m4a, ogg, wav or webm", "file", "invalid_file_format").ToException();
        var model = body.Field("model")?.Text;
        if (string.IsNullOrWhiteSpace(model)) throw LlmError.Invalid("`model` is required: the name of a configured transcription model", "model").ToException();
        var format = body.Field("response_format")?.Text ?? "json";
        if (Array.IndexOf(Formats, format) < 0) throw LlmError.Invalid("`response_format` must be one of json, text, srt, verbose_json, vtt", "response_format").ToException();
        if (body.Field("temperature")?.Text is { } t && (!double.TryParse(t, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var temp) || temp < 0 || temp > 1))
            throw LlmError.Invalid("`temperature` must be a number between 0 and 1", "temperature").ToException();
        var granularities = body.Fields("timestamp_granularities[]").Concat(body.Fields("timestamp_granularities")).ToList();
        foreach (var g in granularities)
        {
            if (g.Text is not ("word" or "segment")) throw LlmError.Invalid("`timestamp_granularities[]` values must be word or segment", "timestamp_granularities").ToException();
        }
        if (granularities.Count > 0 && format != "verbose_json") throw LlmError.Invalid("`timestamp_granularities[]` needs response_format verbose_json", "timestamp_granularities").ToException();
        var stream = body.Field("stream")?.Text is { } s && (s == "true" || s == "True");
        var present = new List<string>();
        foreach (var p in body.Parts)
        {
            if (p.Name is "model" or "file") continue;
            var name = p.Name.EndsWith("[]", StringComparison.Ordinal) ? p.Name[..^2] : p.Name;
            if (name is "drop_params" or "metadata") continue;
            if (!present.Contains(name)) present.Add(name);
        }
        if (translation)
        {
            foreach (var only in new[] { "language", "timestamp_granularities", "include", "chunking_strategy", "stream" })
                if (present.Contains(only)) throw LlmError.Invalid($"`{only}` is not a translations parameter; remove it", only, "unsupported_parameter").ToException();
        }
        double? temperature = body.Field("temperature")?.Text is { } tt ? double.Parse(tt, System.Globalization.CultureInfo.InvariantCulture) : null;
        return new TranscriptionRequest
        {
            Body = body, Model = model, Translation = translation, Stream = stream, Format = format, Params = present, File = file,
            Language = body.Field("language")?.Text, Prompt = body.Field("prompt")?.Text, Temperature = temperature,
            Granularities = granularities.Select(static g => g.Text!).ToList(),
        };
    }

    /// <summary>By extension, else by the first bytes (RIFF/WAVE, ID3 or an MPEG frame, fLaC, OggS, ftyp, EBML).</summary>
    private static bool KnownFormat(string fileName, byte[] head)
    {
        var dot = fileName.LastIndexOf('.');
        if (dot >= 0 && Array.IndexOf(Extensions, fileName[(dot + 1)..].ToLowerInvariant()) >= 0) return true;
        ReadOnlySpan<byte> h = head;
        return (h.Length >= 12 && h.StartsWith("RIFF"u8) && h[8..12].SequenceEqual("WAVE"u8))
            || h.StartsWith("ID3"u8) || (h.Length >= 2 && h[0] == 0xFF && (h[1] & 0xE0) == 0xE0)
            || h.StartsWith("fLaC"u8) || h.StartsWith("OggS"u8)
            || (h.Length >= 8 && h[4..8].SequenceEqual("ftyp"u8))
            || (h.Length >= 4 && h[0] == 0x1A && h[1] == 0x45 && h[2] == 0xDF && h[3] == 0xA3);
    }
}
