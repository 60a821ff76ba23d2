namespace LLMux.Load;

/// <summary>
/// Counts stream frames as bytes arrive in reads of any size: SSE events (a blank line, LF or CRLF) or AWS
/// eventstream messages (length-prefixed). Holds only a few bytes of state.
/// </summary>
internal sealed class FrameCounter(bool eventStream)
{
    private int _prev1 = -1;
    private int _prev2 = -1;
    // eventstream: bytes left in the current message, or the prelude bytes read so far.
    private long _remaining;
    private int _preludeRead;
    private uint _length;

    public long Frames { get; private set; }

    public void Add(ReadOnlySpan<byte> data)
    {
        if (eventStream) { AddEventStream(data); return; }
        foreach (var b in data)
        {
            // "\n\n" or "\n\r\n" ends an event.
            if (b == '\n' && (_prev1 == '\n' || (_prev1 == '\r' && _prev2 == '\n'))) Frames++;
            _prev2 = _prev1;
            _prev1 = b;
        }
    }

    private void AddEventStream(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            if (_remaining > 0)
            {
                var take = (int)Math.Min(_remaining, data.Length);
                _remaining -= take;
                data = data[take..];
                if (_remaining == 0) Frames++;
                continue;
            }
            // The first 4 bytes of a message are its total length, big-endian.
            _length = (_length << 8) | data[0];
            data = data[1..];
            if (++_preludeRead == 4)
            {
                _remaining = _length - 4;
                _preludeRead = 0;
                _length = 0;
            }
        }
    }
}
