using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace LLMux.Providers.Replicate;

/// <summary>
/// Turns Replicate's asynchronous predictions into one HTTP exchange for the pipeline. The create call goes out as
/// built; then, for a plain call, <c>urls.get</c> is polled on the <see cref="TimeProvider"/> until the prediction is
/// succeeded, failed or canceled (with <c>Prefer: wait</c> it usually already is) and the final prediction is the
/// answer; for a stream, <c>urls.stream</c> (SSE: <c>output</c>, <c>done</c>, <c>error</c>) is the answer, followed by
/// the prediction's token metrics. A caller that goes away cancels the prediction (<c>POST urls.cancel</c>), so that
/// nobody is billed for output no one reads.
/// </summary>
internal sealed class ReplicateTransport(HttpMessageHandler inner, TimeProvider time) : DelegatingHandler(inner)
{
    public static readonly HttpRequestOptionsKey<bool> Stream = new("llmux.replicate.stream");
    public static readonly HttpRequestOptionsKey<TimeSpan> PollInterval = new("llmux.replicate.poll_interval");

    /// <summary>LiteLLM polls every second (DEFAULT_REPLICATE_POLLING_DELAY_SECONDS).</summary>
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromSeconds(1);

    private readonly HttpMessageInvoker _follow = new(inner, disposeHandler: false);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var created = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!created.IsSuccessStatusCode) return created;
        var auth = request.Headers.Authorization;
        ReplicatePrediction prediction;
        using (created) prediction = await ReadAsync(created, cancellationToken).ConfigureAwait(false);
        var stream = request.Options.TryGetValue(Stream, out var s) && s;
        if (stream) return await StreamAsync(prediction, auth, cancellationToken).ConfigureAwait(false);

        var interval = request.Options.TryGetValue(PollInterval, out var i) ? i : DefaultPollInterval;
        try
        {
            while (!prediction.IsTerminal)
            {
                await Task.Delay(interval, time, cancellationToken).ConfigureAwait(false);
                using var poll = await _follow.SendAsync(Get(Url(prediction.Urls?.Get, "get"), auth), cancellationToken).ConfigureAwait(false);
                // A failed poll is not a failed prediction (LiteLLM keeps polling); Replicate's own errors are answered as they are.
                if (!poll.IsSuccessStatusCode && (int)poll.StatusCode is not (429 or >= 500)) return await CopyAsync(poll, cancellationToken).ConfigureAwait(false);
                if (poll.IsSuccessStatusCode) prediction = await ReadAsync(poll, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            Cancel(prediction, auth);
            throw;
        }
        var body = JsonSerializer.SerializeToUtf8Bytes(prediction, ReplicateJson.Default.ReplicatePrediction);
        return new HttpResponseMessage(HttpStatusCode.OK) { Content = Json(body), RequestMessage = request };
    }

    private async Task<HttpResponseMessage> StreamAsync(ReplicatePrediction prediction, AuthenticationHeaderValue? auth, CancellationToken cancellationToken)
    {
        if (prediction.Urls?.Stream is not { } url)
        {
            Cancel(prediction, auth);
            var problem = """{"title":"Streaming not supported","detail":"this model's prediction has no urls.stream; call it without stream"}"""u8.ToArray();
            return new HttpResponseMessage(HttpStatusCode.BadRequest) { Content = Json(problem) };
        }
        var get = Get(url, auth);
        get.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        get.Headers.CacheControl = new CacheControlHeaderValue { NoStore = true };
        HttpResponseMessage response;
        try
        {
            // A handler answers once the headers are in; the body is read as it arrives.
            response = await _follow.SendAsync(get, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Cancel(prediction, auth);
            throw;
        }
        if (!response.IsSuccessStatusCode)
        {
            Cancel(prediction, auth);
            return response;
        }
        var upstream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var content = new StreamContent(new PredictionStream(this, upstream, response, prediction, auth));
        content.Headers.ContentType = response.Content.Headers.ContentType;
        return new HttpResponseMessage(HttpStatusCode.OK) { Content = content };
    }

    private static async Task<ReplicatePrediction> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return JsonSerializer.Deserialize(bytes, ReplicateJson.Default.ReplicatePrediction) ?? throw new JsonException("null prediction");
        }
        catch (JsonException ex)
        {
            throw new Pipeline.Errors.LlmError { Kind = Pipeline.Errors.ErrorKind.BadGateway, Provider = ReplicateSpec.Name, Message = $"{ReplicateSpec.Name} answered with a body that is not a prediction ({ex.Message})" }.ToException(ex);
        }
    }

    private static async Task<HttpResponseMessage> CopyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var copy = new HttpResponseMessage(response.StatusCode) { Content = new ByteArrayContent(await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false)) };
        foreach (var (name, values) in response.Headers) copy.Headers.TryAddWithoutValidation(name, values);
        return copy;
    }

    private static string Url(string? url, string which) => url ?? throw new Pipeline.Errors.LlmError
    {
        Kind = Pipeline.Errors.ErrorKind.BadGateway,
        Provider = ReplicateSpec.Name,
        Message = $"{ReplicateSpec.Name}: the prediction has no urls.{which}",
    }.ToException();

    private static HttpRequestMessage Get(string url, AuthenticationHeaderValue? auth)
    {
        var get = new HttpRequestMessage(HttpMethod.Get, url) { Version = HttpVersion.Version11 };
        get.Headers.Authorization = auth;
        return get;
    }

    private static ByteArrayContent Json(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    /// <summary>Fire and forget: the caller is gone, the prediction should stop.</summary>
    private void Cancel(ReplicatePrediction prediction, AuthenticationHeaderValue? auth)
    {
        if (prediction.IsTerminal || prediction.Urls?.Cancel is not { } url) return;
        _ = CancelAsync(url, auth);
    }

    private async Task CancelAsync(string url, AuthenticationHeaderValue? auth)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var post = new HttpRequestMessage(HttpMethod.Post, url) { Version = HttpVersion.Version11, Content = new ByteArrayContent([]) };
        post.Headers.Authorization = auth;
        try
        {
            using var _ = await _follow.SendAsync(post, cts.Token).ConfigureAwait(false);
        }
        catch (HttpRequestException) { }
        catch (OperationCanceledException) { }
    }

    /// <summary>
    /// The <c>urls.stream</c> body, then (once it ends) one more event, <c>event: metrics</c>, with the prediction's
    /// token counts from <c>urls.get</c> for usage and cost. Disposed before its end: the prediction is canceled.
    /// </summary>
    private sealed class PredictionStream(ReplicateTransport owner, Stream upstream, HttpResponseMessage response, ReplicatePrediction prediction, AuthenticationHeaderValue? auth) : Stream
    {
        private bool _ended;
        private ReadOnlyMemory<byte> _tail;
        private bool _tailFetched;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            // A zero-byte read (the pump's way to wait for data) answers 0 without meaning the end.
            if (buffer.IsEmpty)
            {
                if (!_ended) await upstream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                return 0;
            }
            if (!_ended)
            {
                var n = await upstream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (n > 0) return n;
                _ended = true;
            }
            if (!_tailFetched)
            {
                _tailFetched = true;
                _tail = await MetricsEventAsync(cancellationToken).ConfigureAwait(false);
            }
            var take = Math.Min(buffer.Length, _tail.Length);
            _tail.Span[..take].CopyTo(buffer.Span);
            _tail = _tail[take..];
            return take;
        }

        private async Task<ReadOnlyMemory<byte>> MetricsEventAsync(CancellationToken cancellationToken)
        {
            if (prediction.Urls?.Get is not { } url) return default;
            try
            {
                using var poll = await owner._follow.SendAsync(Get(url, auth), cancellationToken).ConfigureAwait(false);
                if (!poll.IsSuccessStatusCode) return default;
                var final = await ReplicateTransport.ReadAsync(poll, cancellationToken).ConfigureAwait(false);
                if (final.Metrics is not { } metrics) return default;
                return Encoding.UTF8.GetBytes("event: metrics\ndata: " + JsonSerializer.Serialize(metrics, ReplicateJson.Default.ReplicateMetrics) + "\n\n");
            }
            catch (HttpRequestException)
            {
                return default; // the answer is complete; only its usage is unknown
            }
            catch (Pipeline.Errors.LlmException)
            {
                return default;
            }
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                if (!_ended) owner.Cancel(prediction, auth);
                upstream.Dispose();
                response.Dispose();
            }
            base.Dispose(disposing);
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _follow.Dispose();
        base.Dispose(disposing);
    }
}
