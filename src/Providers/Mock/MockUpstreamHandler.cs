using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Json;
using LLMux.Providers.Common;

namespace LLMux.Providers.Mock;

/// <summary>
/// An in-process OpenAI-compatible upstream: deterministic answers, streams of a chosen chunk count and
/// delay, and failures on cue (an HTTP status, or an error after N chunks).
/// </summary>
internal sealed class MockUpstreamHandler(TimeProvider time) : HttpMessageHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Options.TryGetValue(MockBehavior.OptionKey, out var behavior);
        behavior ??= new MockBehavior();
        if (behavior.ErrorStatus is { } status) return Task.FromResult(ErrorResponse(status));

        var path = request.RequestUri?.AbsolutePath ?? "";
        // Uploads (multipart): audio files and images to edit.
        if (path.EndsWith("/audio/transcriptions", StringComparison.Ordinal)) return MockModes.TranscriptionAsync(request, translation: false, cancellationToken);
        if (path.EndsWith("/audio/translations", StringComparison.Ordinal)) return MockModes.TranscriptionAsync(request, translation: true, cancellationToken);
        if (path.EndsWith("/images/edits", StringComparison.Ordinal) || path.EndsWith("/images/variations", StringComparison.Ordinal))
            return MockModes.ImageUploadAsync(request, cancellationToken);

        var body = request.Content is PooledContent pc ? pc.Memory : ReadOnlyMemory<byte>.Empty;
        using var doc = JsonDocument.Parse(body);
        var root = doc.RootElement;
        var model = root.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : "mock";

        if (path.EndsWith("/embeddings", StringComparison.Ordinal)) return Task.FromResult(Embeddings(root, model));
        if (path.EndsWith("/images/generations", StringComparison.Ordinal)) return Task.FromResult(MockModes.Images(root));
        if (path.EndsWith("/audio/speech", StringComparison.Ordinal)) return Task.FromResult(MockModes.Speech(root));
        if (path.EndsWith("/moderations", StringComparison.Ordinal)) return Task.FromResult(MockModes.Moderation(root, model));
        if (path.EndsWith("/rerank", StringComparison.Ordinal)) return Task.FromResult(MockModes.Rerank(root));

        var answer = MockAnswer.For(root, behavior, model);
        var stream = root.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        if (!stream) return Task.FromResult(Json(HttpStatusCode.OK, answer.CompletionJson()));

        var includeUsage = root.TryGetProperty("stream_options", out var so) && so.ValueKind == JsonValueKind.Object
            && so.TryGetProperty("include_usage", out var iu) && iu.ValueKind == JsonValueKind.True;
        var response = new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = new MockStreamContent(answer, behavior, includeUsage, time),
            RequestMessage = request,
        };
        return Task.FromResult(response);
    }

    private static HttpResponseMessage ErrorResponse(int status)
    {
        var (type, message) = status switch
        {
            400 => ("invalid_request_error", "bad request (asked for with mock_error_status)"),
            401 => ("invalid_request_error", "Incorrect API key provided (asked for with mock_error_status)"),
            404 => ("invalid_request_error", "the model does not exist (asked for with mock_error_status)"),
            429 => ("requests", "Rate limit reached (asked for with mock_error_status)"),
            _ => ("server_error", $"upstream failure {status} (asked for with mock_error_status)"),
        };
        var json = "{\"error\":{\"message\":\"" + message + "\",\"type\":\"" + type + "\",\"param\":null,\"code\":null}}";
        var response = Json((HttpStatusCode)status, Encoding.UTF8.GetBytes(json));
        if (status == 429) response.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(1));
        response.Headers.TryAddWithoutValidation("x-request-id", "req_mock");
        return response;
    }

    private static HttpResponseMessage Embeddings(JsonElement root, string model)
    {
        var inputs = new List<string>();
        if (root.TryGetProperty("input", out var input))
        {
            if (input.ValueKind == JsonValueKind.String) inputs.Add(input.GetString()!);
            else if (input.ValueKind == JsonValueKind.Array)
                foreach (var e in input.EnumerateArray()) inputs.Add(e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText());
        }
        var dims = root.TryGetProperty("dimensions", out var d) && d.TryGetInt32(out var dv) && dv > 0 ? Math.Min(dv, 4096) : 8;
        var base64 = root.TryGetProperty("encoding_format", out var ef) && ef.ValueEquals("base64");
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, JsonOut.Options))
        {
            w.WriteStartObject();
            w.WriteString("object", "list");
            w.WriteStartArray("data");
            long tokens = 0;
            for (var i = 0; i < inputs.Count; i++)
            {
                tokens += MockAnswer.CountWords(inputs[i]);
                var vector = MockAnswer.Vector(inputs[i], dims);
                w.WriteStartObject();
                w.WriteString("object", "embedding");
                w.WriteNumber("index", i);
                if (base64)
                {
                    var bytes = new byte[dims * 4];
                    for (var k = 0; k < dims; k++) BitConverter.TryWriteBytes(bytes.AsSpan(k * 4), vector[k]);
                    w.WriteString("embedding", Convert.ToBase64String(bytes));
                }
                else
                {
                    w.WriteStartArray("embedding");
                    foreach (var f in vector) w.WriteNumberValue(f);
                    w.WriteEndArray();
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteString("model", model);
            w.WriteStartObject("usage");
            w.WriteNumber("prompt_tokens", tokens);
            w.WriteNumber("total_tokens", tokens);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Json(HttpStatusCode.OK, buffer.WrittenSpan.ToArray());
    }

    private static HttpResponseMessage Json(HttpStatusCode status, byte[] json)
    {
        var content = new ByteArrayContent(json);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return new HttpResponseMessage(status) { Content = content };
    }

    /// <summary>Streams the answer through a pipe so the reader sees each chunk as it is produced.</summary>
    private sealed class MockStreamContent(MockAnswer answer, MockBehavior behavior, bool includeUsage, TimeProvider time) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) =>
            stream.WriteAsync(answer.StreamBytes(behavior, includeUsage)).AsTask();

        protected override bool TryComputeLength(out long length) { length = -1; return false; }

        protected override Task<Stream> CreateContentReadStreamAsync()
        {
            var pipe = new Pipe();
            _ = ProduceAsync(pipe.Writer);
            return Task.FromResult(pipe.Reader.AsStream());
        }

        private async Task ProduceAsync(PipeWriter writer)
        {
            try
            {
                var chunks = answer.StreamFrames(behavior, includeUsage);
                for (var i = 0; i < chunks.Count; i++)
                {
                    if (behavior.ChunkDelayMs > 0 && i > 0) await Task.Delay(TimeSpan.FromMilliseconds(behavior.ChunkDelayMs), time).ConfigureAwait(false);
                    var result = await writer.WriteAsync(chunks[i]).ConfigureAwait(false);
                    if (result.IsCompleted) break;
                }
                await writer.CompleteAsync().ConfigureAwait(false);
            }
            catch (InvalidOperationException ex)
            {
                await writer.CompleteAsync(ex).ConfigureAwait(false);
            }
        }
    }
}
