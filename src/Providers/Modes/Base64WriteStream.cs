using System.Buffers;
using System.Buffers.Text;

namespace LLMux.Providers.Modes;

/// <summary>
/// A write-only stream that base64-encodes what is written to it into <paramref name="inner"/>, holding back at most the
/// two bytes of an incomplete group, so that an upload can be inlined in a JSON body without being held in memory.
/// Call <see cref="FinishAsync"/> once at the end to write the last group with its padding.
/// </summary>
public sealed class Base64WriteStream(Stream inner) : Stream
{
    private readonly byte[] _carry = new byte[2];
    private int _carried;
    private byte[] _encoded = ArrayPool<byte>.Shared.Rent(64 * 1024 + 8);

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            // Complete a group held back from the last write first.
            if (_carried > 0)
            {
                while (_carried < 3 && !buffer.IsEmpty && _carried < 2) { _carry[_carried++] = buffer.Span[0]; buffer = buffer[1..]; }
                if (buffer.IsEmpty) return;
                Span<byte> group = [_carry[0], _carry[1], buffer.Span[0]];
                buffer = buffer[1..];
                _carried = 0;
                Base64.EncodeToUtf8(group, _encoded, out _, out var w);
                await inner.WriteAsync(_encoded.AsMemory(0, w), cancellationToken).ConfigureAwait(false);
                continue;
            }
            var take = Math.Min(buffer.Length, 48 * 1024) / 3 * 3;
            if (take == 0)
            {
                buffer.Span.CopyTo(_carry);
                _carried = buffer.Length;
                return;
            }
            Base64.EncodeToUtf8(buffer.Span[..take], _encoded, out _, out var written, isFinalBlock: false);
            await inner.WriteAsync(_encoded.AsMemory(0, written), cancellationToken).ConfigureAwait(false);
            buffer = buffer[take..];
        }
    }

    /// <summary>Writes the held-back bytes with their padding.</summary>
    public async ValueTask FinishAsync(CancellationToken cancellationToken)
    {
        if (_carried == 0) return;
        Base64.EncodeToUtf8(_carry.AsSpan(0, _carried), _encoded, out _, out var written);
        _carried = 0;
        await inner.WriteAsync(_encoded.AsMemory(0, written), cancellationToken).ConfigureAwait(false);
    }

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    protected override void Dispose(bool disposing)
    {
        if (disposing && _encoded.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_encoded);
            _encoded = [];
        }
        base.Dispose(disposing);
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() => inner.Flush();
    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
