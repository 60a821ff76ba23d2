using System.Net;
using System.Net.Http.Headers;
using LLMux.Pipeline.Context;

namespace LLMux.Providers.Common;

/// <summary>An HTTP request body over a <see cref="PooledBuffer"/>, returned to the pool when the request is disposed.</summary>
public sealed class PooledContent : HttpContent
{
    private readonly PooledBuffer _buffer;

    public PooledContent(PooledBuffer buffer, MediaTypeHeaderValue? contentType = null)
    {
        _buffer = buffer;
        // The common case is stored as the raw header value: no parsed header object (and no shared, mutable one) per request.
        if (contentType is null) Headers.TryAddWithoutValidation("Content-Type", "application/json");
        else Headers.ContentType = contentType;
    }

    public ReadOnlyMemory<byte> Memory => _buffer.Memory;

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(_buffer.Memory).AsTask();

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
        stream.WriteAsync(_buffer.Memory, cancellationToken).AsTask();

    protected override bool TryComputeLength(out long length)
    {
        length = _buffer.Length;
        return true;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _buffer.Dispose();
        base.Dispose(disposing);
    }
}
