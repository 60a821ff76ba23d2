using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Streaming;
using LLMux.Pipeline.Streaming.Decoders;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace LLMux.Tests.Pipeline;

/// <summary>The consumer-driven pump: the client writer's own wait reads the upstream; nothing reads ahead of it.</summary>
public sealed class StreamPumpTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    /// <summary>Re-frames each SSE event as <c>data: ...\n\n</c>, as a same-protocol passthrough does.</summary>
    private sealed class Passthrough : SseStreamTranslator
    {
        protected override void OnEvent(in SseFrame frame, IBufferWriter<byte> output)
        {
            ContentStarted = true;
            output.Write("data: "u8);
            foreach (var memory in frame.Data) output.Write(memory.Span);
            output.Write("\n\n"u8);
        }

        protected override void OnEnd(IBufferWriter<byte> output) { }
    }

    /// <summary>An upstream body the test writes into as the model would; counts the reads that asked for bytes.</summary>
    private sealed class UpstreamBody : Stream
    {
        private readonly Pipe _pipe = new();
        private readonly Stream _reader;
        public UpstreamBody() => _reader = _pipe.Reader.AsStream();
        public int Reads { get; private set; }
        public bool Disposed { get; private set; }

        public async Task SendAsync(string text) => await _pipe.Writer.WriteAsync(Encoding.UTF8.GetBytes(text));
        public Task EndAsync() => _pipe.Writer.CompleteAsync().AsTask();
        public void Break(Exception exception) => _pipe.Writer.Complete(exception);

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (buffer.Length > 0) Reads++;
            return await _reader.ReadAsync(buffer, cancellationToken);
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        protected override void Dispose(bool disposing) { Disposed = true; _reader.Dispose(); base.Dispose(disposing); }
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

    private static string Text(StreamSegment segment)
    {
        var text = Encoding.UTF8.GetString(segment.Memory.Span);
        segment.Release();
        return text;
    }

    [Fact]
    public async Task The_upstream_is_read_only_when_the_client_asks_for_more()
    {
        var upstream = new UpstreamBody();
        await using var pump = StreamPump.Start(upstream, new Passthrough(), StreamPumpOptions.Default, "test", CancellationToken.None);
        await upstream.SendAsync("data: {\"n\":1}\n\n");
        Assert.Equal(0, upstream.Reads); // nothing is read before the client asks

        Assert.True(await pump.Segments.WaitToReadAsync().AsTask().WaitAsync(Bound));
        Assert.True(pump.Segments.TryRead(out var first));
        Assert.Equal("data: {\"n\":1}\n\n", Text(first));
        var readsForFirst = upstream.Reads;

        // More arrives while the client is busy elsewhere (a slow flush): none of it is read, so TCP holds the upstream.
        await upstream.SendAsync("data: {\"n\":2}\n\n");
        await upstream.SendAsync("data: {\"n\":3}\n\n");
        Assert.Equal(readsForFirst, upstream.Reads);
        Assert.False(pump.Segments.TryRead(out _));

        // Asking again reads what is there (both events in one segment), then the end.
        await upstream.EndAsync();
        Assert.True(await pump.Segments.WaitToReadAsync().AsTask().WaitAsync(Bound));
        Assert.True(pump.Segments.TryRead(out var rest));
        Assert.Equal("data: {\"n\":2}\n\ndata: {\"n\":3}\n\n", Text(rest));
        Assert.False(await pump.Segments.WaitToReadAsync().AsTask().WaitAsync(Bound));
        await pump.Completion.WaitAsync(Bound);
        Assert.True(upstream.Disposed);
    }

    [Fact]
    public async Task A_wait_completes_when_the_upstream_bytes_arrive_later()
    {
        var upstream = new UpstreamBody();
        await using var pump = StreamPump.Start(upstream, new Passthrough(), StreamPumpOptions.Default, "test", CancellationToken.None);
        var wait = pump.Segments.WaitToReadAsync().AsTask();
        Assert.False(wait.IsCompleted);
        // Half a frame is not a segment: the wait goes on reading until the frame is whole.
        await upstream.SendAsync("data: {\"n\"");
        await upstream.SendAsync(":1}\n\n");
        Assert.True(await wait.WaitAsync(Bound));
        Assert.True(pump.Segments.TryPeek(out var peeked));
        Assert.True(pump.Segments.TryRead(out var segment));
        Assert.Same(peeked.Buffer, segment.Buffer);
        Assert.Equal("data: {\"n\":1}\n\n", Text(segment));
        Assert.NotEqual(0, pump.FirstSegmentTimestamp);
    }

    [Fact]
    public async Task A_quiet_upstream_past_the_idle_timeout_ends_with_a_timeout_error()
    {
        var time = new FakeTimeProvider();
        var upstream = new UpstreamBody();
        var options = StreamPumpOptions.Default with { IdleTimeout = TimeSpan.FromSeconds(5), TimeProvider = time };
        await using var pump = StreamPump.Start(upstream, new Passthrough(), options, "test", CancellationToken.None);
        var wait = pump.Segments.WaitToReadAsync().AsTask();
        time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(wait.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.True(await wait.WaitAsync(Bound));
        Assert.True(pump.Segments.TryRead(out var segment));
        Assert.Equal(ErrorKind.Timeout, segment.Error?.Kind);
        Assert.False(segment.ContentStarted);
        Assert.Same(segment.Error, pump.Failure);
        Assert.False(await pump.Segments.WaitToReadAsync().AsTask().WaitAsync(Bound));
    }

    [Fact]
    public async Task A_slow_client_is_not_an_idle_upstream()
    {
        var time = new FakeTimeProvider();
        var upstream = new UpstreamBody();
        var options = StreamPumpOptions.Default with { IdleTimeout = TimeSpan.FromSeconds(5), TimeProvider = time };
        await using var pump = StreamPump.Start(upstream, new Passthrough(), options, "test", CancellationToken.None);
        await upstream.SendAsync("data: {\"n\":1}\n\n");
        Assert.True(await pump.Segments.WaitToReadAsync().AsTask().WaitAsync(Bound));
        Assert.True(pump.Segments.TryRead(out var first));
        first.Release();
        // The client takes a minute before it asks again; the upstream answered meanwhile.
        await upstream.SendAsync("data: {\"n\":2}\n\n");
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(await pump.Segments.WaitToReadAsync().AsTask().WaitAsync(Bound));
        Assert.True(pump.Segments.TryRead(out var second));
        Assert.Null(second.Error);
        Assert.Equal("data: {\"n\":2}\n\n", Text(second));
    }

    [Fact]
    public async Task A_wait_with_a_token_that_fires_ends_the_stream_and_closes_the_upstream()
    {
        var upstream = new UpstreamBody();
        await using var pump = StreamPump.Start(upstream, new Passthrough(), StreamPumpOptions.Default, "test", CancellationToken.None);
        using var cts = new CancellationTokenSource();
        var wait = pump.Segments.WaitToReadAsync(cts.Token).AsTask();
        Assert.False(wait.IsCompleted);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.WaitAsync(Bound));
        await pump.Completion.WaitAsync(Bound);
        Assert.True(upstream.Disposed);
        Assert.Null(pump.Failure);
    }

    [Fact]
    public async Task The_client_going_away_ends_a_waiting_read_without_an_error_segment()
    {
        var upstream = new UpstreamBody();
        using var client = new CancellationTokenSource();
        await using var pump = StreamPump.Start(upstream, new Passthrough(), StreamPumpOptions.Default, "test", client.Token);
        var wait = pump.Segments.WaitToReadAsync().AsTask();
        client.Cancel();
        Assert.False(await wait.WaitAsync(Bound));
        Assert.False(pump.Segments.TryRead(out _));
        await pump.Completion.WaitAsync(Bound);
        Assert.True(upstream.Disposed);
    }

    [Fact]
    public async Task Dispose_while_a_read_waits_ends_the_wait_and_closes_the_upstream()
    {
        var upstream = new UpstreamBody();
        var pump = StreamPump.Start(upstream, new Passthrough(), StreamPumpOptions.Default, "test", CancellationToken.None);
        var wait = pump.Segments.WaitToReadAsync().AsTask();
        await pump.DisposeAsync().AsTask().WaitAsync(Bound);
        Assert.False(await wait.WaitAsync(Bound));
        Assert.True(upstream.Disposed);
    }

    [Fact]
    public async Task A_broken_upstream_after_content_hands_the_frames_then_a_bad_gateway_error()
    {
        var upstream = new UpstreamBody();
        await using var pump = StreamPump.Start(upstream, new Passthrough(), StreamPumpOptions.Default, "test", CancellationToken.None);
        await upstream.SendAsync("data: {\"n\":1}\n\n");
        Assert.True(await pump.Segments.WaitToReadAsync().AsTask().WaitAsync(Bound));
        Assert.True(pump.Segments.TryRead(out var first));
        Assert.Equal("data: {\"n\":1}\n\n", Text(first));
        upstream.Break(new IOException("connection reset by peer"));
        Assert.True(await pump.Segments.WaitToReadAsync().AsTask().WaitAsync(Bound));
        Assert.True(pump.Segments.TryRead(out var error));
        Assert.Equal(ErrorKind.BadGateway, error.Error?.Kind);
        Assert.True(error.ContentStarted);
        Assert.Contains("connection reset by peer", error.Error!.Message);
        Assert.False(await pump.Segments.WaitToReadAsync().AsTask().WaitAsync(Bound));
        await pump.Completion.WaitAsync(Bound);
    }

    [Fact]
    public async Task A_borrowed_source_stays_uncancelled_when_the_stream_ends_by_itself()
    {
        var upstream = new UpstreamBody();
        using var borrowed = new CancellationTokenSource();
        var pump = StreamPump.Start(upstream, new Passthrough(), StreamPumpOptions.Default, "test", CancellationToken.None, borrowed);
        await upstream.SendAsync("data: {\"n\":1}\n\n");
        await upstream.EndAsync();
        var text = new StringBuilder();
        await foreach (var segment in pump.Segments.ReadAllAsync()) text.Append(Text(segment));
        await pump.DisposeAsync();
        Assert.Equal("data: {\"n\":1}\n\n", text.ToString());
        Assert.False(borrowed.IsCancellationRequested); // the pooled context may reuse it
        Assert.True(borrowed.TryReset());
    }

    [Fact]
    public async Task Abort_stops_a_waiting_read_through_the_borrowed_source()
    {
        var upstream = new UpstreamBody();
        using var borrowed = new CancellationTokenSource();
        await using var pump = StreamPump.Start(upstream, new Passthrough(), StreamPumpOptions.Default, "test", CancellationToken.None, borrowed);
        var wait = pump.Segments.WaitToReadAsync().AsTask();
        pump.Abort();
        Assert.False(await wait.WaitAsync(Bound));
        Assert.True(borrowed.IsCancellationRequested);
        Assert.True(upstream.Disposed);
    }
}
