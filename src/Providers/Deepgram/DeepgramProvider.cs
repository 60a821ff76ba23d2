using System.Collections.Frozen;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Streaming;
using LLMux.Providers.Common;
using LLMux.Providers.Modes;

namespace LLMux.Providers.Deepgram;

/// <summary>
/// Deepgram pre-recorded transcription (<c>deepgram/nova-3</c>): <c>POST {api_base}/listen?model=…&amp;language=…</c> with the
/// audio as the raw body (its media type as Content-Type, streamed from the spool) and <c>Authorization: Token</c>; form
/// fields that are not OpenAI's (punctuate, smart_format, diarize, keywords, …) become query parameters, as LiteLLM sends
/// them. The answer (<c>results.channels[0].alternatives[0]</c>) becomes the OpenAI format asked for; priced per second.
/// </summary>
internal sealed class DeepgramProvider : LlmProvider
{
    public const string Name = "deepgram";

    public override ProviderSpec Spec { get; } = new()
    {
        Name = Name,
        DisplayName = "Deepgram (speech to text)",
        DefaultApiBase = "https://api.deepgram.com/v1",
        ApiBaseEnv = "DEEPGRAM_API_BASE",
        ApiKeyEnv = "DEEPGRAM_API_KEY",
        Auth = AuthScheme.ApiKeyHeader,
        Modes = new[] { LlmMode.AudioTranscription }.ToFrozenSet(),
        ModeParams = new Dictionary<LlmMode, FrozenDictionary<string, ParamRule>>
        {
            [LlmMode.AudioTranscription] = ModeTables.Rejecting(
                ModeTables.Of(LlmMode.AudioTranscription, ["language", "response_format", "timestamp_granularities"], Name,
                    notes: new Dictionary<string, string>
                    {
                        ["language"] = "query parameter `language`",
                        ["response_format"] = "all five: srt/vtt cues and verbose_json segments are built from Deepgram's word timings",
                        ["timestamp_granularities"] = "word: Deepgram's words; segment: cues built from them",
                    }),
                "LLMux calls Deepgram's pre-recorded API, which answers once; send the request without stream", "stream"),
        }.ToFrozenDictionary(),
        ForwardsUnknownFields = true,
        Notes =
        [
            "`deepgram/<model>`: `POST {api_base}/listen?model=<model>` (api_base default `https://api.deepgram.com/v1`), raw audio body, `Authorization: Token <api_key or DEEPGRAM_API_KEY>`",
            "form fields that are not OpenAI parameters (punctuate, smart_format, diarize, keywords, …) are sent as query parameters",
            "priced by `metadata.duration` × input_cost_per_second",
        ],
    };

    public override HttpRequestMessage CreateRequest(LlmContext context)
    {
        var deployment = context.Deployment!;
        var upload = (TranscriptionRequest)context.ModeRequest!.Parsed!;
        var apiBase = (deployment.ApiBase ?? Environment.GetEnvironmentVariable("DEEPGRAM_API_BASE") ?? Spec.DefaultApiBase!).TrimEnd('/');
        var query = new StringBuilder("model=").Append(Uri.EscapeDataString(deployment.UpstreamModel));
        if (upload.Language is { Length: > 0 } language && !context.IsDropped("language")) query.Append("&language=").Append(Uri.EscapeDataString(language));
        foreach (var part in upload.Body.Parts)
        {
            if (part.FileName is not null || part.Name is "model" or "file" or "drop_params" or "metadata") continue;
            var name = part.Name.EndsWith("[]", StringComparison.Ordinal) ? part.Name[..^2] : part.Name;
            if (ModeParamNames.Contains(LlmMode.AudioTranscription, name) || context.IsDropped(name)) continue;
            query.Append('&').Append(Uri.EscapeDataString(name)).Append('=').Append(Uri.EscapeDataString(part.Text ?? ""));
        }
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(apiBase + "/listen?" + query, UriKind.Absolute))
        {
            Content = new SpooledFileContent(upload.Body, upload.File, upload.AudioMediaType()),
            Version = System.Net.HttpVersion.Version11,
        };
        var key = deployment.ApiKey?.Reveal() ?? Environment.GetEnvironmentVariable("DEEPGRAM_API_KEY");
        if (string.IsNullOrEmpty(key))
        {
            request.Dispose();
            throw new LlmError { Kind = ErrorKind.Auth, Message = $"deepgram: no API key for model `{deployment.ModelName}`; set litellm_params.api_key or DEEPGRAM_API_KEY", Param = "api_key", Code = "missing_api_key", Provider = Name }.ToException();
        }
        request.Headers.TryAddWithoutValidation("Authorization", "Token " + key);
        return request;
    }

    public override async ValueTask ReadResponseAsync(LlmContext context, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        using var body = await ResponseBodyReader.ReadAsync(response, Name, cancellationToken).ConfigureAwait(false);
        var upload = (TranscriptionRequest)context.ModeRequest!.Parsed!;
        var (text, language, duration, words) = DeepgramAnswer.Read(body.Span);
        context.Usage = new Pipeline.Wire.Usage { AudioSeconds = (decimal)duration };
        context.ResponseBody = TranscriptWriter.Write(upload, text, language, duration, words);
    }

    public override StreamTranslator CreateStreamTranslator(LlmContext context) =>
        throw new InvalidOperationException("deepgram transcription does not stream (the capability table rejects stream)");

    public override LlmError MapError(LlmContext context, int status, ReadOnlySpan<byte> body, HttpResponseHeaders headers)
    {
        // {"err_code":"INVALID_AUTH","err_msg":"Invalid credentials.","request_id":"…"}
        string? message = null, code = null;
        try
        {
            var reader = new Utf8JsonReader(body);
            if (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("err_msg"u8)) { reader.Read(); message = reader.TokenType == JsonTokenType.String ? reader.GetString() : null; }
                    else if (reader.ValueTextEquals("err_code"u8)) { reader.Read(); code = reader.TokenType == JsonTokenType.String ? reader.GetString() : null; }
                    else { reader.Read(); reader.Skip(); }
                }
            }
        }
        catch (JsonException)
        {
        }
        var kind = ErrorStatus.KindForStatus(status);
        return new LlmError
        {
            Kind = kind,
            Message = $"deepgram: {message ?? $"upstream answered HTTP {status}"}" + (kind == ErrorKind.Auth ? " (check this deployment's api_key or DEEPGRAM_API_KEY)" : ""),
            Code = code,
            Provider = Name,
            UpstreamStatus = status,
            UpstreamRequestId = UpstreamHeaders.RequestId(headers) ?? (headers.TryGetValues("dg-request-id", out var ids) ? ids.FirstOrDefault() : null),
            RetryAfter = UpstreamHeaders.RetryAfter(headers),
            StatusOverride = kind == ErrorKind.Other ? status : null,
        };
    }
}

/// <summary>Deepgram's <c>/listen</c> answer: the first channel's first alternative, its words and the file's duration.</summary>
internal static class DeepgramAnswer
{
    public static (string Text, string Language, double Duration, List<TimedWord> Words) Read(ReadOnlySpan<byte> json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json.ToArray());
            var root = doc.RootElement;
            var duration = root.TryGetProperty("metadata", out var meta) && meta.TryGetProperty("duration", out var d) && d.ValueKind == JsonValueKind.Number ? d.GetDouble() : 0;
            var channel = root.GetProperty("results").GetProperty("channels")[0];
            var alternative = channel.GetProperty("alternatives")[0];
            var words = new List<TimedWord>();
            var diarized = false;
            if (alternative.TryGetProperty("words", out var ws) && ws.ValueKind == JsonValueKind.Array)
            {
                foreach (var w in ws.EnumerateArray())
                {
                    diarized |= w.TryGetProperty("speaker", out _);
                    var word = w.TryGetProperty("punctuated_word", out var pw) ? pw.GetString() : w.GetProperty("word").GetString();
                    words.Add(new TimedWord(word ?? "", w.GetProperty("start").GetDouble(), w.GetProperty("end").GetDouble()));
                }
            }
            // LiteLLM: a diarized answer is read from its paragraphs (speaker-labelled), else the plain transcript.
            var text = diarized && alternative.TryGetProperty("paragraphs", out var para) && para.TryGetProperty("transcript", out var pt)
                ? pt.GetString()!.Trim()
                : alternative.GetProperty("transcript").GetString() ?? "";
            var language = channel.TryGetProperty("detected_language", out var dl) && dl.ValueKind == JsonValueKind.String ? dl.GetString()! : "en";
            return (text, language, duration, words);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException)
        {
            throw new LlmError { Kind = ErrorKind.BadGateway, Provider = DeepgramProvider.Name, Message = $"deepgram answered with a body that is not a /listen result ({ex.Message})" }.ToException(ex);
        }
    }
}
