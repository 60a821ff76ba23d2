using System.Collections.Frozen;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;
using LLMux.Pipeline.Streaming;
using LLMux.Providers.Common;
using LLMux.Providers.Modes;

namespace LLMux.Providers.ElevenLabs;

/// <summary>
/// ElevenLabs (<c>elevenlabs/&lt;model&gt;</c>, <c>xi-api-key</c>): speech to text at <c>POST {api_base}/v1/speech-to-text</c>
/// (a new multipart body: <c>model_id</c>, <c>language_code</c>, <c>temperature</c>, extra fields, and the client's file
/// streamed from the spool) and text to speech at <c>POST {api_base}/v1/text-to-speech/{voice_id}?output_format=…</c>
/// (<c>{text, model_id, voice_settings.speed}</c>), whose audio is streamed back as it arrives. LiteLLM's mappings:
/// OpenAI voice names to fixed voice ids, mp3/pcm/opus to ElevenLabs' output formats.
/// </summary>
internal sealed class ElevenLabsProvider : LlmProvider
{
    public const string Name = "elevenlabs";
    private const string DefaultBase = "https://api.elevenlabs.io";

    /// <summary>LiteLLM's mapping of OpenAI voice names to ElevenLabs voice ids.</summary>
    private static readonly FrozenDictionary<string, string> Voices = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["alloy"] = "21m00Tcm4TlvDq8ikWAM", // Rachel
        ["amber"] = "5Q0t7uMcjvnagumLfvZi", // Paul
        ["ash"] = "AZnzlk1XvdvUeBnXmlld", // Domi
        ["august"] = "D38z5RcWu1voky8WS1ja", // Fin
        ["blue"] = "2EiwWnXFnvU5JabPnv8n", // Clyde
        ["coral"] = "9BWtsMINqrJLrRacOk9x", // Aria
        ["lily"] = "EXAVITQu4vr4xnSDxMaL", // Sarah
        ["onyx"] = "29vD33N1CtxCmqQRPOHJ", // Drew
        ["sage"] = "CwhRBWXzGAHq8TQ4Fs17", // Roger
        ["verse"] = "CYw3kZ02Hs0563khs1Fj", // Dave
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    public override ProviderSpec Spec { get; } = new()
    {
        Name = Name,
        DisplayName = "ElevenLabs (speech to text, text to speech)",
        DefaultApiBase = DefaultBase,
        ApiBaseEnv = "ELEVENLABS_API_BASE",
        ApiKeyEnv = "ELEVENLABS_API_KEY",
        Auth = AuthScheme.ApiKeyHeader,
        Modes = new[] { LlmMode.AudioTranscription, LlmMode.AudioSpeech }.ToFrozenSet(),
        ModeParams = new Dictionary<LlmMode, FrozenDictionary<string, ParamRule>>
        {
            [LlmMode.AudioTranscription] = ModeTables.Rejecting(
                ModeTables.Of(LlmMode.AudioTranscription, ["temperature", "response_format", "timestamp_granularities"], Name,
                    mapped: new Dictionary<string, string> { ["language"] = "language_code" },
                    notes: new Dictionary<string, string>
                    {
                        ["response_format"] = "all five: srt/vtt cues and verbose_json segments are built from ElevenLabs' word timings",
                        ["timestamp_granularities"] = "word: ElevenLabs' words; segment: cues built from them",
                    }),
                "LLMux calls ElevenLabs' speech-to-text API, which answers once; send the request without stream", "stream"),
            [LlmMode.AudioSpeech] = ModeTables.Of(LlmMode.AudioSpeech, ["response_format"], Name,
                mapped: new Dictionary<string, string>
                {
                    ["voice"] = "the voice_id in the path (OpenAI names mapped as LiteLLM does, others taken as ids)",
                    ["speed"] = "voice_settings.speed",
                },
                notes: new Dictionary<string, string>
                {
                    ["response_format"] = "mp3 → mp3_44100_128, pcm → pcm_24000, opus → opus_48000_128; wav, aac, flac are a 400",
                    ["instructions"] = "ElevenLabs takes no instructions",
                    ["stream_format"] = "audio only; ElevenLabs has no speech SSE",
                }),
        }.ToFrozenDictionary(),
        ForwardsUnknownFields = true,
        Notes =
        [
            "`elevenlabs/<model>`: `xi-api-key` (api_key, else ELEVENLABS_API_KEY); api_base default `https://api.elevenlabs.io`",
            "speech to text: `POST {api_base}/v1/speech-to-text` multipart (`model_id`, `file`, `language_code`, `temperature`, other fields as sent); priced per second (the WAV header's duration, else the last word's end)",
            "text to speech: `POST {api_base}/v1/text-to-speech/{voice_id}?output_format=…`, the audio streamed back; priced per character",
        ],
    };

    private static string BaseOf(Deployment deployment) =>
        (deployment.ApiBase ?? Environment.GetEnvironmentVariable("ELEVENLABS_API_BASE") ?? DefaultBase).TrimEnd('/');

    public override HttpRequestMessage CreateRequest(LlmContext context)
    {
        var deployment = context.Deployment!;
        var request = context.Mode == LlmMode.AudioSpeech ? CreateSpeechRequest(context, deployment) : CreateTranscriptionRequest(context, deployment);
        var key = deployment.ApiKey?.Reveal() ?? Environment.GetEnvironmentVariable("ELEVENLABS_API_KEY");
        if (string.IsNullOrEmpty(key))
        {
            request.Dispose();
            throw new LlmError { Kind = ErrorKind.Auth, Message = $"elevenlabs: no API key for model `{deployment.ModelName}`; set litellm_params.api_key or ELEVENLABS_API_KEY", Param = "api_key", Code = "missing_api_key", Provider = Name }.ToException();
        }
        request.Headers.TryAddWithoutValidation("xi-api-key", key);
        return request;
    }

    private static HttpRequestMessage CreateTranscriptionRequest(LlmContext context, Deployment deployment)
    {
        var upload = (TranscriptionRequest)context.ModeRequest!.Parsed!;
        var fields = new List<KeyValuePair<string, string>> { new("model_id", deployment.UpstreamModel) };
        if (upload.Language is { Length: > 0 } language && !context.IsDropped("language")) fields.Add(new("language_code", language));
        if (upload.Temperature is { } t && !context.IsDropped("temperature")) fields.Add(new("temperature", t.ToString(CultureInfo.InvariantCulture)));
        foreach (var part in upload.Body.Parts)
        {
            if (part.FileName is not null || part.Name is "model" or "file" or "drop_params" or "metadata") continue;
            var name = part.Name.EndsWith("[]", StringComparison.Ordinal) ? part.Name[..^2] : part.Name;
            if (ModeParamNames.Contains(LlmMode.AudioTranscription, name) || context.IsDropped(name)) continue;
            fields.Add(new(part.Name, part.Text ?? ""));
        }
        // Word timings are what srt, vtt and verbose_json are built from; ElevenLabs gives them at word granularity by default.
        return new HttpRequestMessage(HttpMethod.Post, new Uri(BaseOf(deployment) + "/v1/speech-to-text", UriKind.Absolute))
        {
            Content = new RebuiltMultipartContent(upload.Body, upload.File, upload.AudioMediaType(), fields),
            Version = System.Net.HttpVersion.Version11,
        };
    }

    private static HttpRequestMessage CreateSpeechRequest(LlmContext context, Deployment deployment)
    {
        var speech = (SpeechRequest)context.ModeRequest!.Parsed!;
        string? outputFormat = null;
        if (speech.FormatGiven && !context.IsDropped("response_format"))
        {
            outputFormat = speech.Format switch
            {
                "mp3" => "mp3_44100_128",
                "pcm" => "pcm_24000",
                "opus" => "opus_48000_128",
                _ => throw LlmError.Invalid($"`response_format: {speech.Format}` is not available from elevenlabs; use mp3, pcm or opus", "response_format", "unsupported_parameter").ToException(),
            };
        }
        if (speech.Sse && !context.IsDropped("stream_format"))
            throw LlmError.Invalid("`stream_format: sse` is not available from elevenlabs; remove it (audio bytes are streamed)", "stream_format", "unsupported_parameter").ToException();
        speech.AnswerContentType = speech.FormatGiven ? SpeechRequest.ContentType(speech.Format) : "audio/mpeg";
        var voice = Voices.TryGetValue(speech.Voice.Trim(), out var id) ? id : speech.Voice.Trim();
        var url = BaseOf(deployment) + "/v1/text-to-speech/" + Uri.EscapeDataString(voice) + (outputFormat is null ? "" : "?output_format=" + outputFormat);

        var body = new PooledBuffer(256 + speech.Input.Length * 2);
        using (var w = new Utf8JsonWriter(body))
        {
            w.WriteStartObject();
            w.WriteString("text"u8, speech.Input);
            w.WriteString("model_id"u8, deployment.UpstreamModel);
            if (speech.Speed is { } speed && !context.IsDropped("speed"))
            {
                w.WriteStartObject("voice_settings"u8);
                w.WriteNumber("speed"u8, speed);
                w.WriteEndObject();
            }
            // Fields that are not OpenAI's (voice_settings, language_code, seed, …) are ElevenLabs' own: sent as they are.
            using (var doc = JsonDocument.Parse(context.Body))
            {
                foreach (var p in doc.RootElement.EnumerateObject())
                {
                    if (p.Name is "model" or "input" or "voice" or "metadata" or "drop_params" || ModeParamNames.Contains(LlmMode.AudioSpeech, p.Name)
                        || Pipeline.Wire.GatewayRequestFields.Set.Contains(p.Name) || context.IsDropped(p.Name)) continue;
                    if (p.Name == "voice_settings" && speech.Speed is not null) continue;
                    p.WriteTo(w);
                }
            }
            w.WriteEndObject();
        }
        return new HttpRequestMessage(HttpMethod.Post, new Uri(url, UriKind.Absolute))
        {
            Content = new PooledContent(body),
            Version = System.Net.HttpVersion.Version11,
        };
    }

    public override async ValueTask ReadResponseAsync(LlmContext context, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        using var body = await ResponseBodyReader.ReadAsync(response, Name, cancellationToken).ConfigureAwait(false);
        var upload = (TranscriptionRequest)context.ModeRequest!.Parsed!;
        var (text, language, duration, words) = ReadTranscript(body.Span, upload);
        context.Usage = new Pipeline.Wire.Usage { AudioSeconds = (decimal)duration };
        context.ResponseBody = TranscriptWriter.Write(upload, text, language, duration, words);
    }

    /// <summary><c>{language_code, text, words[{text, start, end, type}]}</c>; only <c>type: word</c> entries are words (LiteLLM's reading).</summary>
    private static (string Text, string Language, double Duration, List<TimedWord> Words) ReadTranscript(ReadOnlySpan<byte> json, TranscriptionRequest upload)
    {
        try
        {
            using var doc = JsonDocument.Parse(json.ToArray());
            var root = doc.RootElement;
            var words = new List<TimedWord>();
            double lastEnd = 0;
            if (root.TryGetProperty("words", out var ws) && ws.ValueKind == JsonValueKind.Array)
            {
                foreach (var w in ws.EnumerateArray())
                {
                    var end = w.TryGetProperty("end", out var e) && e.ValueKind == JsonValueKind.Number ? e.GetDouble() : 0;
                    lastEnd = Math.Max(lastEnd, end);
                    if (!w.TryGetProperty("type", out var type) || type.GetString() != "word") continue;
                    words.Add(new TimedWord(w.GetProperty("text").GetString() ?? "", w.GetProperty("start").GetDouble(), end));
                }
            }
            var duration = root.TryGetProperty("audio_duration_secs", out var ad) && ad.ValueKind == JsonValueKind.Number ? ad.GetDouble() : WavSeconds(upload) ?? lastEnd;
            var language = root.TryGetProperty("language_code", out var lc) && lc.ValueKind == JsonValueKind.String ? lc.GetString()! : "unknown";
            return (root.GetProperty("text").GetString() ?? "", language, duration, words);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new LlmError { Kind = ErrorKind.BadGateway, Provider = Name, Message = $"elevenlabs answered with a body that is not a speech-to-text result ({ex.Message})" }.ToException(ex);
        }
    }

    private static double? WavSeconds(TranscriptionRequest upload)
    {
        ReadOnlySpan<byte> h = upload.Body.Head(upload.File, 44);
        if (h.Length < 44 || !h.StartsWith("RIFF"u8) || !h[8..12].SequenceEqual("WAVE"u8) || !h[36..40].SequenceEqual("data"u8)) return null;
        var byteRate = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(h[28..]);
        return byteRate > 0 ? (upload.File.Length - 44) / (double)byteRate : null;
    }

    public override StreamTranslator CreateStreamTranslator(LlmContext context)
    {
        // Speech is priced per character, known before the first byte.
        if (context.ModeRequest?.Parsed is SpeechRequest speech) context.Usage = new Pipeline.Wire.Usage { Characters = speech.Input.Length };
        return new RawBytesTranslator();
    }

    public override LlmError MapError(LlmContext context, int status, ReadOnlySpan<byte> body, HttpResponseHeaders headers)
    {
        // {"detail":{"status":"invalid_api_key","message":"…"}} or FastAPI's {"detail":[{"loc":[…],"msg":"…","type":"…"}]}
        string? message = null, code = null, param = null;
        try
        {
            using var doc = JsonDocument.Parse(body.ToArray());
            if (doc.RootElement.TryGetProperty("detail", out var detail))
            {
                if (detail.ValueKind == JsonValueKind.Object)
                {
                    message = detail.TryGetProperty("message", out var m) ? m.GetString() : null;
                    code = detail.TryGetProperty("status", out var s) ? s.GetString() : null;
                }
                else if (detail.ValueKind == JsonValueKind.Array && detail.GetArrayLength() > 0)
                {
                    var first = detail[0];
                    message = first.TryGetProperty("msg", out var m) ? m.GetString() : null;
                    if (first.TryGetProperty("loc", out var loc) && loc.ValueKind == JsonValueKind.Array && loc.GetArrayLength() > 0) param = loc[loc.GetArrayLength() - 1].ToString();
                }
                else if (detail.ValueKind == JsonValueKind.String) message = detail.GetString();
            }
        }
        catch (JsonException)
        {
        }
        var kind = ErrorStatus.KindForStatus(status);
        if (status == 422) kind = ErrorKind.InvalidRequest;
        return new LlmError
        {
            Kind = kind,
            Message = $"elevenlabs: {message ?? $"upstream answered HTTP {status}"}" + (kind == ErrorKind.Auth ? " (check this deployment's api_key or ELEVENLABS_API_KEY)" : ""),
            Code = code,
            Param = param,
            Provider = Name,
            UpstreamStatus = status,
            UpstreamRequestId = UpstreamHeaders.RequestId(headers) ?? (headers.TryGetValues("request-id", out var ids) ? ids.FirstOrDefault() : null),
            RetryAfter = UpstreamHeaders.RetryAfter(headers),
            StatusOverride = kind == ErrorKind.Other ? status : null,
        };
    }
}
