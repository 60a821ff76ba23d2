using System.Text.Json;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Wire;

namespace LLMux.Providers.Modes;

/// <summary>
/// A checked <c>/v1/audio/speech</c> request: <c>input</c> ≤ 4096 characters, <c>voice</c>, <c>response_format</c>
/// (mp3, opus, aac, flac, wav, pcm), <c>speed</c> 0.25–4, <c>instructions</c> and <c>stream_format: sse</c> not on tts-1*.
/// </summary>
public sealed class SpeechRequest
{
    public required string Model { get; init; }
    public required string Input { get; init; }
    public string Format { get; init; } = "mp3";
    /// <summary>True when the client named a <c>response_format</c> (providers whose default is not mp3 need to know).</summary>
    public bool FormatGiven { get; init; }
    public string Voice { get; init; } = "";
    public string? Instructions { get; init; }
    public double? Speed { get; init; }
    public bool Sse { get; init; }
    /// <summary>
    /// The Content-Type of the audio when the provider builds it itself (Gemini's PCM as WAV): set by the provider when it
    /// writes the upstream request; the upstream's own audio Content-Type wins over it.
    /// </summary>
    public string? AnswerContentType { get; set; }
    public required IReadOnlyList<string> Params { get; init; }
    public bool? DropParams { get; init; }

    private static readonly HashSet<string> NotParams = ["model", "input", "metadata", .. GatewayRequestFields.Names];
    private static readonly string[] Formats = ["mp3", "opus", "aac", "flac", "wav", "pcm"];

    /// <summary>The Content-Type of each <c>response_format</c>, as OpenAI sends it.</summary>
    public static string ContentType(string format) => format switch
    {
        "opus" => "audio/opus",
        "aac" => "audio/aac",
        "flac" => "audio/flac",
        "wav" => "audio/wav",
        "pcm" => "audio/pcm",
        _ => "audio/mpeg",
    };

    public static SpeechRequest Parse(ReadOnlyMemory<byte> body, Func<string, string?> upstreamModel)
    {
        if (body.IsEmpty) throw LlmError.Invalid("request body is empty; send a JSON object").ToException();
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException ex)
        {
            throw LlmError.Invalid($"request body is not valid JSON: {ex.Message}", null, "invalid_json").ToException(ex);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw LlmError.Invalid("request body must be a JSON object").ToException();
            if (!root.TryGetProperty("model", out var m) || m.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(m.GetString()))
                throw LlmError.Invalid("`model` is required: the name of a configured speech model", "model").ToException();
            if (!root.TryGetProperty("input", out var i) || i.ValueKind != JsonValueKind.String || i.GetString()!.Length == 0)
                throw LlmError.Invalid("`input` is required: the text to speak", "input").ToException();
            var input = i.GetString()!;
            if (input.Length > 4096) throw LlmError.Invalid($"`input` is {input.Length} characters; speech takes at most 4096", "input").ToException();
            if (!root.TryGetProperty("voice", out var v) || v.ValueKind != JsonValueKind.String || v.GetString()!.Length == 0)
                throw LlmError.Invalid("`voice` is required: a voice name (alloy, ash, ballad, coral, echo, fable, nova, onyx, sage, shimmer, verse, marin, cedar)", "voice").ToException();
            var format = "mp3";
            if (root.TryGetProperty("response_format", out var rf) && rf.ValueKind != JsonValueKind.Null)
            {
                if (rf.ValueKind != JsonValueKind.String || Array.IndexOf(Formats, rf.GetString()) < 0)
                    throw LlmError.Invalid("`response_format` must be one of mp3, opus, aac, flac, wav, pcm", "response_format").ToException();
                format = rf.GetString()!;
            }
            if (root.TryGetProperty("speed", out var sp) && sp.ValueKind != JsonValueKind.Null
                && (sp.ValueKind != JsonValueKind.Number || sp.GetDouble() is < 0.25 or > 4))
                throw LlmError.Invalid("`speed` must be a number between 0.25 and 4", "speed").ToException();
            var tts1 = upstreamModel(m.GetString()!) is { } um && um.StartsWith("tts-1", StringComparison.Ordinal);
            if (tts1 && root.TryGetProperty("instructions", out var ins) && ins.ValueKind != JsonValueKind.Null)
                throw LlmError.Invalid("`instructions` is not supported by tts-1 and tts-1-hd; remove it or use gpt-4o-mini-tts", "instructions", "unsupported_parameter").ToException();
            var sse = false;
            if (root.TryGetProperty("stream_format", out var sf) && sf.ValueKind != JsonValueKind.Null)
            {
                if (sf.ValueKind != JsonValueKind.String || sf.GetString() is not ("audio" or "sse")) throw LlmError.Invalid("`stream_format` must be audio or sse", "stream_format").ToException();
                sse = sf.GetString() == "sse";
                if (sse && tts1) throw LlmError.Invalid("`stream_format: sse` is not supported by tts-1 and tts-1-hd", "stream_format", "unsupported_parameter").ToException();
            }
            var present = new List<string>();
            foreach (var e in root.EnumerateObject())
                if (e.Value.ValueKind != JsonValueKind.Null && !NotParams.Contains(e.Name)) present.Add(e.Name);
            return new SpeechRequest
            {
                Model = m.GetString()!,
                Input = input,
                Format = format,
                FormatGiven = root.TryGetProperty("response_format", out var given) && given.ValueKind == JsonValueKind.String,
                Voice = v.GetString()!,
                Instructions = root.TryGetProperty("instructions", out var instr) && instr.ValueKind == JsonValueKind.String ? instr.GetString() : null,
                Speed = root.TryGetProperty("speed", out var spd) && spd.ValueKind == JsonValueKind.Number ? spd.GetDouble() : null,
                Sse = sse,
                Params = present,
                DropParams = root.TryGetProperty("drop_params", out var dp) && dp.ValueKind is JsonValueKind.True or JsonValueKind.False ? dp.ValueKind == JsonValueKind.True : null,
            };
        }
    }
}
