using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;
using LLMux.Pipeline.Wire;
using LLMux.Providers.Modes;

namespace LLMux.Providers.Gemini;

/// <summary>
/// <c>/v1/audio/transcriptions</c> and <c>/translations</c> on a Gemini model: generateContent with a transcription prompt
/// and the upload as an <c>inlineData</c> part (its media type from the part, its extension or its first bytes), the
/// base64 written from the spool while the body is sent. The answer's text becomes OpenAI's json, text or verbose_json
/// (without segments: Gemini gives no timestamps, so srt, vtt and timestamp granularities are refused before any call).
/// </summary>
internal static class GeminiTranscription
{
    public static HttpContent Content(LlmContext context, string model)
    {
        var upload = (TranscriptionRequest)context.ModeRequest!.Parsed!;
        var provider = context.Deployment!.ProviderName;
        if (GeminiSpeech.IsTtsModel(model))
            throw LlmError.Invalid($"{provider}/{model} is a text-to-speech model; transcription needs a Gemini model that takes audio (gemini-2.5-flash, …)", "model", "unsupported_model").ToException();
        if (upload.Format is not ("json" or "text" or "verbose_json"))
            throw LlmError.Invalid($"`response_format: {upload.Format}` is not available from {provider}: Gemini returns no timestamps; use json, text or verbose_json", "response_format", "unsupported_parameter").ToException();
        if (upload.Granularities.Count > 0 && !context.IsDropped("timestamp_granularities"))
            throw LlmError.Invalid($"`timestamp_granularities[]` is not available from {provider}: Gemini returns no timestamps; remove it", "timestamp_granularities", "unsupported_parameter").ToException();

        var prefix = new PooledBuffer(1024);
        using (var w = new Utf8JsonWriter(prefix))
        {
            w.WriteStartObject();
            w.WriteStartArray("contents"u8);
            w.WriteStartObject();
            w.WriteString("role"u8, "user"u8);
            w.WriteStartArray("parts"u8);
            w.WriteStartObject();
            w.WriteString("text"u8, Prompt(context, upload));
            w.WriteEndObject();
            w.WriteStartObject();
            w.WriteStartObject("inlineData"u8);
            w.WriteString("mimeType"u8, upload.AudioMediaType());
            w.WritePropertyName("data"u8);
            w.Flush();
        }
        var suffix = new StringBuilder("\"}}]}]");
        if (upload.Temperature is { } t && !context.IsDropped("temperature"))
            suffix.Append(",\"generationConfig\":{\"temperature\":").Append(t.ToString("R", System.Globalization.CultureInfo.InvariantCulture)).Append('}');
        suffix.Append('}');
        return new InlineAudioContent(upload, prefix, Encoding.UTF8.GetBytes(suffix.ToString()));
    }

    private static string Prompt(LlmContext context, TranscriptionRequest upload)
    {
        var text = new StringBuilder(upload.Translation
            ? "Translate the speech in this audio into English. Answer with the English text only, without timestamps or commentary."
            : "Generate a transcript of the speech in this audio. Answer with the transcript text only, without timestamps or commentary.");
        if (!upload.Translation && upload.Language is { Length: > 0 } language && !context.IsDropped("language"))
            text.Append(" The speech is in the language with ISO-639-1 code `").Append(language).Append("`; transcribe it in that language.");
        if (upload.Prompt is { Length: > 0 } prompt && !context.IsDropped("prompt"))
            text.Append(" Earlier text or spellings to follow: ").Append(prompt);
        return text.ToString();
    }

    /// <summary>The transcript in the asked OpenAI format; sets the usage (audio input tokens apart) and the answer's Content-Type.</summary>
    public static PooledBuffer Read(LlmContext context, ReadOnlySpan<byte> json, string provider)
    {
        var upload = (TranscriptionRequest)context.ModeRequest!.Parsed!;
        var text = new StringBuilder();
        GeminiUsage usage = default;
        long audioIn = 0;
        string? block = null, finish = null;
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new JsonException("not a JSON object");
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("candidates"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartArray) { reader.Skip(); continue; }
                    var first = true;
                    while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                    {
                        if (!first) { reader.Skip(); continue; }
                        first = false;
                        ReadCandidate(ref reader, text, ref finish);
                    }
                }
                else if (reader.ValueTextEquals("usageMetadata"u8))
                {
                    reader.Read();
                    var copy = reader;
                    usage = GeminiUsage.Read(ref reader);
                    (audioIn, _) = GeminiSpeechTranslator.AudioTokens(ref copy);
                }
                else if (reader.ValueTextEquals("promptFeedback"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        if (reader.ValueTextEquals("blockReason"u8)) { reader.Read(); block = reader.GetString(); }
                        else { reader.Read(); reader.Skip(); }
                    }
                }
                else { reader.Read(); reader.Skip(); }
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            throw new LlmError { Kind = ErrorKind.BadGateway, Provider = provider, Message = $"{provider} answered the transcription with an unreadable body ({ex.Message})" }.ToException(ex);
        }
        if (block is not null || finish is "SAFETY" or "PROHIBITED_CONTENT" or "BLOCKLIST" or "RECITATION")
            throw new LlmError { Kind = ErrorKind.ContentPolicy, Provider = provider, Message = $"{provider} returned no transcript: {(block is not null ? "the request was blocked (" + block + ")" : "generation stopped (" + finish + ")")}" }.ToException();

        var u = usage.ToUsage();
        if (audioIn > 0) u.PromptTokensDetails!.AudioTokens = audioIn;
        context.Usage = u;
        var transcript = text.ToString().Trim();
        var answer = new PooledBuffer(transcript.Length * 2 + 256);
        if (upload.Format == "text")
        {
            upload.AnswerContentType = "text/plain; charset=utf-8";
            answer.Write(Encoding.UTF8.GetBytes(transcript + "\n"));
            return answer;
        }
        upload.AnswerContentType = "application/json";
        using var w = new Utf8JsonWriter(answer);
        w.WriteStartObject();
        if (upload.Format == "verbose_json")
        {
            w.WriteString("task"u8, upload.Translation ? "translate"u8 : "transcribe"u8);
            w.WriteString("language"u8, upload.Translation ? "english" : upload.Language ?? "unknown");
            if (WavSeconds(upload) is { } seconds) w.WriteNumber("duration"u8, Math.Round(seconds, 3));
        }
        w.WriteString("text"u8, transcript);
        w.WriteStartObject("usage"u8);
        w.WriteString("type"u8, "tokens"u8);
        w.WriteNumber("input_tokens"u8, u.PromptTokens);
        w.WriteStartObject("input_token_details"u8);
        w.WriteNumber("text_tokens"u8, Math.Max(0, u.PromptTokens - audioIn));
        w.WriteNumber("audio_tokens"u8, audioIn);
        w.WriteEndObject();
        w.WriteNumber("output_tokens"u8, u.CompletionTokens);
        w.WriteNumber("total_tokens"u8, u.TotalTokens);
        w.WriteEndObject();
        w.WriteEndObject();
        w.Flush();
        return answer;
    }

    private static void ReadCandidate(ref Utf8JsonReader reader, StringBuilder text, ref string? finish)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("finishReason"u8)) { reader.Read(); finish = reader.GetString(); }
            else if (reader.ValueTextEquals("content"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (!reader.ValueTextEquals("parts"u8)) { reader.Read(); reader.Skip(); continue; }
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartArray) { reader.Skip(); continue; }
                    while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                    {
                        string? partText = null;
                        var thought = false;
                        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                        {
                            if (reader.ValueTextEquals("text"u8)) { reader.Read(); partText = reader.GetString(); }
                            else if (reader.ValueTextEquals("thought"u8)) { reader.Read(); thought = reader.TokenType == JsonTokenType.True; }
                            else { reader.Read(); reader.Skip(); }
                        }
                        if (!thought && partText is not null) text.Append(partText);
                    }
                }
            }
            else { reader.Read(); reader.Skip(); }
        }
    }

    /// <summary>The duration of a PCM WAV upload from its header (other formats would need decoding).</summary>
    private static double? WavSeconds(TranscriptionRequest upload)
    {
        ReadOnlySpan<byte> h = upload.Body.Head(upload.File, 44);
        if (h.Length < 44 || !h.StartsWith("RIFF"u8) || !h[8..12].SequenceEqual("WAVE"u8) || !h[12..16].SequenceEqual("fmt "u8)) return null;
        var byteRate = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(h[28..]);
        if (byteRate <= 0 || !h[36..40].SequenceEqual("data"u8)) return null;
        return (upload.File.Length - 44) / (double)byteRate;
    }

    /// <summary>The generateContent body with the audio base64-encoded from the spool as it is sent; its length is known up front.</summary>
    private sealed class InlineAudioContent : HttpContent
    {
        private readonly TranscriptionRequest _upload;
        private readonly PooledBuffer _prefix;
        private readonly byte[] _suffix;

        public InlineAudioContent(TranscriptionRequest upload, PooledBuffer prefix, byte[] suffix)
        {
            _upload = upload;
            _prefix = prefix;
            _suffix = suffix;
            Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            await stream.WriteAsync(_prefix.Memory, cancellationToken).ConfigureAwait(false);
            await stream.WriteAsync("\""u8.ToArray(), cancellationToken).ConfigureAwait(false);
            await using (var base64 = new Base64WriteStream(stream))
            {
                await _upload.Body.CopyFileAsync(_upload.File, base64, cancellationToken).ConfigureAwait(false);
                await base64.FinishAsync(cancellationToken).ConfigureAwait(false);
            }
            await stream.WriteAsync(_suffix, cancellationToken).ConfigureAwait(false);
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override bool TryComputeLength(out long length)
        {
            length = _prefix.Length + 1 + (_upload.File.Length + 2) / 3 * 4 + _suffix.Length;
            return true;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) _prefix.Dispose();
            base.Dispose(disposing);
        }
    }
}
