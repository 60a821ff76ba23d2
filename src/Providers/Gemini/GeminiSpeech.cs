using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;
using LLMux.Pipeline.Streaming;
using LLMux.Pipeline.Wire;
using LLMux.Providers.Modes;

namespace LLMux.Providers.Gemini;

/// <summary>
/// <c>/v1/audio/speech</c> on a Gemini TTS model (<c>gemini-2.5-flash-preview-tts</c>, …): one user turn with the text,
/// <c>generationConfig.responseModalities: ["AUDIO"]</c> and the voice as <c>speechConfig.voiceConfig.prebuiltVoiceConfig.voiceName</c>.
/// Gemini answers 24 kHz 16-bit mono PCM (<c>audio/L16;codec=pcm;rate=24000</c>) in <c>inlineData</c>; it is sent as WAV
/// (LiteLLM's output, also when no format is named) or raw with <c>response_format: pcm</c>. There is no encoder here, so
/// mp3, opus, aac and flac are refused before any call.
/// </summary>
internal static class GeminiSpeech
{
    /// <summary>Gemini's prebuilt voices (the speech generation guide's list).</summary>
    public static readonly string[] Voices =
    [
        "Zephyr", "Puck", "Charon", "Kore", "Fenrir", "Leda", "Orus", "Aoede", "Callirrhoe", "Autonoe", "Enceladus", "Iapetus",
        "Umbriel", "Algieba", "Despina", "Erinome", "Algenib", "Rasalgethi", "Laomedeia", "Achernar", "Alnilam", "Schedar",
        "Gacrux", "Pulcherrima", "Achird", "Zubenelgenubi", "Vindemiatrix", "Sadachbia", "Sadaltager", "Sulafat",
    ];

    private static readonly string[] OpenAIVoices = ["alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse", "marin", "cedar"];

    /// <summary>LiteLLM's test: a Gemini model whose name says tts.</summary>
    public static bool IsTtsModel(string model) => model.Contains("tts", StringComparison.OrdinalIgnoreCase);

    public static PooledBuffer Write(LlmContext context, string model)
    {
        var speech = (SpeechRequest)context.ModeRequest!.Parsed!;
        var provider = context.Deployment!.ProviderName;
        if (!IsTtsModel(model))
            throw LlmError.Invalid($"{provider}/{model} is not a text-to-speech model; speech needs a Gemini TTS model such as gemini-2.5-flash-preview-tts", "model", "unsupported_model").ToException();
        if (speech.FormatGiven && speech.Format is not ("wav" or "pcm") && !context.IsDropped("response_format"))
            throw LlmError.Invalid($"`response_format: {speech.Format}` is not available from {provider}: Gemini returns 24 kHz 16-bit PCM and LLMux has no {speech.Format} encoder; use wav (the default here) or pcm", "response_format", "unsupported_parameter").ToException();
        if (speech.Sse && !context.IsDropped("stream_format"))
            throw LlmError.Invalid($"`stream_format: sse` is not available from {provider}; remove it (audio bytes are streamed)", "stream_format", "unsupported_parameter").ToException();
        foreach (var v in OpenAIVoices)
        {
            if (string.Equals(v, speech.Voice, StringComparison.OrdinalIgnoreCase))
                throw LlmError.Invalid($"`voice: {speech.Voice}` is an OpenAI voice; {provider} TTS takes one of its prebuilt voices: {string.Join(", ", Voices)}", "voice", "invalid_voice").ToException();
        }
        speech.AnswerContentType = speech.FormatGiven && speech.Format == "pcm" && !context.IsDropped("response_format") ? "audio/pcm" : "audio/wav";

        var body = new PooledBuffer(512 + speech.Input.Length * 2);
        try
        {
            using var w = new Utf8JsonWriter(body);
            w.WriteStartObject();
            w.WriteStartArray("contents"u8);
            w.WriteStartObject();
            w.WriteString("role"u8, "user"u8);
            w.WriteStartArray("parts"u8);
            w.WriteStartObject();
            // Gemini TTS takes its style direction in the prompt ("Say cheerfully: …"): instructions become that prefix.
            if (speech.Instructions is { Length: > 0 } instructions && !context.IsDropped("instructions"))
                w.WriteString("text"u8, instructions.TrimEnd().TrimEnd(':') + ": " + speech.Input);
            else w.WriteString("text"u8, speech.Input);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteStartObject("generationConfig"u8);
            w.WriteStartArray("responseModalities"u8);
            w.WriteStringValue("AUDIO"u8);
            w.WriteEndArray();
            w.WriteStartObject("speechConfig"u8);
            w.WriteStartObject("voiceConfig"u8);
            w.WriteStartObject("prebuiltVoiceConfig"u8);
            w.WriteString("voiceName"u8, speech.Voice);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
            w.Flush();
            return body;
        }
        catch
        {
            body.Dispose();
            throw;
        }
    }

    /// <summary>The 44-byte RIFF/WAVE header of 16-bit PCM.</summary>
    public static void WriteWavHeader(Span<byte> header, int dataLength, int sampleRate, int channels)
    {
        "RIFF"u8.CopyTo(header);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(header[4..], 36 + dataLength);
        "WAVEfmt "u8.CopyTo(header[8..]);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(header[16..], 16);
        System.Buffers.Binary.BinaryPrimitives.WriteInt16LittleEndian(header[20..], 1);
        System.Buffers.Binary.BinaryPrimitives.WriteInt16LittleEndian(header[22..], (short)channels);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(header[24..], sampleRate);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(header[28..], sampleRate * channels * 2);
        System.Buffers.Binary.BinaryPrimitives.WriteInt16LittleEndian(header[32..], (short)(channels * 2));
        System.Buffers.Binary.BinaryPrimitives.WriteInt16LittleEndian(header[34..], 16);
        "data"u8.CopyTo(header[36..]);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(header[40..], dataLength);
    }

    /// <summary>The sample rate in an <c>audio/L16;codec=pcm;rate=24000</c> media type (24 kHz when absent).</summary>
    public static int RateOf(string? mimeType)
    {
        if (mimeType is null) return 24000;
        var at = mimeType.IndexOf("rate=", StringComparison.OrdinalIgnoreCase);
        if (at < 0) return 24000;
        var rest = mimeType.AsSpan(at + 5);
        var end = rest.IndexOf(';');
        return int.TryParse(end < 0 ? rest : rest[..end], System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var rate) && rate > 0 ? rate : 24000;
    }
}

/// <summary>
/// Reads Gemini's generateContent answer to a TTS call (it arrives when the audio is complete) and sends the decoded PCM,
/// as WAV unless the client asked for pcm; the token usage (audio output tokens included) is set before the first byte.
/// </summary>
internal sealed class GeminiSpeechTranslator(LlmContext context, string provider, bool wav) : StreamTranslator
{
    // The answer is one JSON object: nothing is consumed until it has arrived whole.
    public override void Decode(ref ReadOnlySequence<byte> buffer, IBufferWriter<byte> output) { }

    public override void Complete(ReadOnlySequence<byte> remaining, IBufferWriter<byte> output)
    {
        using var pcm = new PooledBuffer(remaining.Length > int.MaxValue / 2 ? 1 << 20 : (int)(remaining.Length * 3 / 4) + 16);
        string? mime = null, finish = null, block = null;
        GeminiUsage usage = default;
        long audioOut = 0, audioIn = 0;
        try
        {
            var reader = new Utf8JsonReader(remaining);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw Bad("not a JSON object");
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
                        ReadCandidate(ref reader, pcm, ref mime, ref finish);
                    }
                }
                else if (reader.ValueTextEquals("usageMetadata"u8))
                {
                    reader.Read();
                    var copy = reader;
                    usage = GeminiUsage.Read(ref reader);
                    (audioIn, audioOut) = AudioTokens(ref copy);
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
        catch (JsonException ex)
        {
            throw Bad(ex.Message);
        }
        if (pcm.Length == 0)
        {
            var why = block is not null ? $"the prompt was blocked ({block})" : finish is not null and not "STOP" ? $"generation stopped ({finish})" : "the answer held no audio";
            throw new LlmError
            {
                Kind = block is not null || finish is "SAFETY" or "PROHIBITED_CONTENT" or "BLOCKLIST" ? ErrorKind.ContentPolicy : ErrorKind.BadGateway,
                Message = $"{provider} returned no speech: {why}",
                Provider = provider,
            }.ToException();
        }
        var u = usage.ToUsage();
        if (audioOut > 0) u.CompletionTokensDetails!.AudioTokens = audioOut;
        if (audioIn > 0) u.PromptTokensDetails!.AudioTokens = audioIn;
        context.Usage = u;
        if (wav)
        {
            var header = output.GetSpan(44);
            GeminiSpeech.WriteWavHeader(header, pcm.Length, GeminiSpeech.RateOf(mime), 1);
            output.Advance(44);
        }
        output.Write(pcm.Span);
        ContentStarted = true;
    }

    private void ReadCandidate(ref Utf8JsonReader reader, PooledBuffer pcm, ref string? mime, ref string? finish)
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
                        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                        {
                            if (!reader.ValueTextEquals("inlineData"u8) && !reader.ValueTextEquals("inline_data"u8)) { reader.Read(); reader.Skip(); continue; }
                            reader.Read();
                            if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
                            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                            {
                                if (reader.ValueTextEquals("mimeType"u8) || reader.ValueTextEquals("mime_type"u8)) { reader.Read(); mime ??= reader.GetString(); }
                                else if (reader.ValueTextEquals("data"u8)) { reader.Read(); DecodeBase64(ref reader, pcm); }
                                else { reader.Read(); reader.Skip(); }
                            }
                        }
                    }
                }
            }
            else { reader.Read(); reader.Skip(); }
        }
    }

    private void DecodeBase64(ref Utf8JsonReader reader, PooledBuffer pcm)
    {
        if (reader.TokenType != JsonTokenType.String) throw Bad("inlineData.data is not a string");
        byte[]? rented = null;
        try
        {
            ReadOnlySpan<byte> text;
            if (reader.HasValueSequence || reader.ValueIsEscaped)
            {
                var length = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
                rented = ArrayPool<byte>.Shared.Rent(length);
                text = rented.AsSpan(0, reader.CopyString(rented));
            }
            else text = reader.ValueSpan;
            var dest = pcm.GetSpan(Base64.GetMaxDecodedFromUtf8Length(text.Length));
            if (Base64.DecodeFromUtf8(text, dest, out _, out var written) != OperationStatus.Done) throw Bad("inlineData.data is not base64");
            pcm.Advance(written);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>The AUDIO entries of <c>promptTokensDetails</c> and <c>candidatesTokensDetails</c>.</summary>
    internal static (long In, long Out) AudioTokens(ref Utf8JsonReader reader)
    {
        long audioIn = 0, audioOut = 0;
        if (reader.TokenType != JsonTokenType.StartObject) return (0, 0);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var prompt = reader.ValueTextEquals("promptTokensDetails"u8);
            var candidates = reader.ValueTextEquals("candidatesTokensDetails"u8) || reader.ValueTextEquals("responseTokensDetails"u8);
            reader.Read();
            if ((!prompt && !candidates) || reader.TokenType != JsonTokenType.StartArray) { reader.Skip(); continue; }
            while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                var audio = false;
                long count = 0;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("modality"u8)) { reader.Read(); audio = reader.ValueTextEquals("AUDIO"u8); }
                    else if (reader.ValueTextEquals("tokenCount"u8)) { reader.Read(); count = reader.TokenType == JsonTokenType.Number ? reader.GetInt64() : 0; }
                    else { reader.Read(); reader.Skip(); }
                }
                if (!audio) continue;
                if (prompt) audioIn += count;
                else audioOut += count;
            }
        }
        return (audioIn, audioOut);
    }

    private LlmException Bad(string why) => new LlmError { Kind = ErrorKind.BadGateway, Provider = provider, Message = $"{provider} answered the speech call with an unreadable body ({why})" }.ToException();
}
