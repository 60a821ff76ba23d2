using System.Buffers;
using System.Buffers.Text;

namespace LLMux.Pipeline.Streaming.Decoders;

/// <summary>
/// Decodes the WHATWG <c>text/event-stream</c> format from a <see cref="ReadOnlySequence{T}"/> without copying:
/// frames are slices of the input. Only an event with several data lines uses one pooled copy.
/// </summary>
public sealed class SseDecoder : IDisposable
{
    private static ReadOnlySpan<byte> Bom => [0xEF, 0xBB, 0xBF];

    private bool _started;
    private byte[]? _joined;

    /// <summary>
    /// Reads the next complete event from <paramref name="buffer"/>, advancing it past the bytes consumed.
    /// Returns false, leaving the unfinished event in <paramref name="buffer"/>, when more input is needed.
    /// With <paramref name="isFinalBlock"/> a last event without its blank line is still dispatched.
    /// </summary>
    public bool TryRead(ref ReadOnlySequence<byte> buffer, bool isFinalBlock, out SseFrame frame)
    {
        frame = default;
        var reader = new SequenceReader<byte>(buffer);
        if (!_started)
        {
            // "One leading U+FEFF BYTE ORDER MARK character must be ignored if any are present."
            if (reader.Remaining < 3 && !isFinalBlock && StartsWithPartialBom(reader)) return false;
            if (reader.IsNext(Bom, advancePast: true)) { }
            _started = true;
            buffer = buffer.Slice(reader.Position);
            reader = new SequenceReader<byte>(buffer);
        }

        while (true)
        {
            var data1 = default(ReadOnlySequence<byte>);
            var dataCount = 0;
            var eventType = default(ReadOnlySequence<byte>);
            var id = default(ReadOnlySequence<byte>);
            long? retry = null;
            var joinedLength = 0;

            while (true)
            {
                if (!TryReadLine(ref reader, isFinalBlock, out var line))
                {
                    // End of input inside an event.
                    if (isFinalBlock && dataCount > 0)
                    {
                        buffer = buffer.Slice(reader.Position);
                        frame = new SseFrame(Data(data1, dataCount, joinedLength), eventType, id, retry);
                        return true;
                    }
                    if (isFinalBlock) buffer = buffer.Slice(buffer.End);
                    return false;
                }

                if (line.IsEmpty)
                {
                    // "If the line is empty (a blank line): dispatch the event."
                    if (dataCount == 0)
                    {
                        // "If the data buffer is an empty string, set the data buffer and the event type buffer to the empty string and return."
                        buffer = buffer.Slice(reader.Position);
                        break;
                    }
                    buffer = buffer.Slice(reader.Position);
                    frame = new SseFrame(Data(data1, dataCount, joinedLength), eventType, id, retry);
                    return true;
                }

                var first = line.FirstSpan[0];
                if (first == (byte)':') continue; // a comment

                ReadOnlySequence<byte> name, value;
                var colon = line.PositionOf((byte)':');
                if (colon is { } c)
                {
                    name = line.Slice(0, c);
                    value = line.Slice(line.GetPosition(1, c));
                    // "If value starts with a U+0020 SPACE character, remove it from value."
                    if (!value.IsEmpty && value.FirstSpan[0] == (byte)' ') value = value.Slice(1);
                }
                else
                {
                    // "the whole line as the field name, and the empty string as the field value."
                    name = line;
                    value = default;
                }

                if (NameIs(name, "data"u8))
                {
                    if (dataCount == 0) data1 = value;
                    else AppendJoined(ref joinedLength, data1, dataCount, value);
                    dataCount++;
                }
                else if (NameIs(name, "event"u8)) eventType = value;
                else if (NameIs(name, "id"u8))
                {
                    // "If the field value does not contain U+0000 NULL, then set the last event ID buffer to the field value."
                    if (value.PositionOf((byte)0) is null) id = value;
                }
                else if (NameIs(name, "retry"u8))
                {
                    var span = value.IsSingleSegment ? value.FirstSpan : value.ToArray();
                    if (span.Length > 0 && AllDigits(span) && Utf8Parser.TryParse(span, out long ms, out var used) && used == span.Length) retry = ms;
                }
            }
        }
    }

    private ReadOnlySequence<byte> Data(ReadOnlySequence<byte> first, int count, int joinedLength) =>
        count == 1 ? first : new ReadOnlySequence<byte>(_joined!, 0, joinedLength);

    private void AppendJoined(ref int length, ReadOnlySequence<byte> first, int count, ReadOnlySequence<byte> value)
    {
        if (count == 1)
        {
            length = 0;
            Ensure((int)first.Length + 1 + (int)value.Length);
            first.CopyTo(_joined);
            length = (int)first.Length;
        }
        Ensure(length + 1 + (int)value.Length);
        _joined![length++] = (byte)'\n';
        value.CopyTo(_joined.AsSpan(length));
        length += (int)value.Length;
    }

    private void Ensure(int size)
    {
        if (_joined is not null && _joined.Length >= size) return;
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(size, 256));
        if (_joined is not null)
        {
            _joined.CopyTo(bigger, 0);
            ArrayPool<byte>.Shared.Return(_joined);
        }
        _joined = bigger;
    }

    private static bool TryReadLine(ref SequenceReader<byte> reader, bool isFinalBlock, out ReadOnlySequence<byte> line)
    {
        var start = reader.Position;
        var startConsumed = reader.Consumed;
        if (reader.TryAdvanceToAny("\r\n"u8, advancePastDelimiter: false))
        {
            line = reader.Sequence.Slice(start, reader.Position);
            reader.TryRead(out var delimiter);
            if (delimiter == (byte)'\r')
            {
                // CRLF is one line end; a CR at the very end of the input may be the first half of one.
                if (reader.End)
                {
                    if (!isFinalBlock) { reader.Rewind(reader.Consumed - startConsumed); line = default; return false; }
                }
                else if (reader.IsNext((byte)'\n', advancePast: true)) { }
            }
            return true;
        }
        // No line end: the rest is an unfinished line (a last line without its end counts only at end of input).
        if (isFinalBlock && !reader.End)
        {
            line = reader.UnreadSequence;
            reader.AdvanceToEnd();
            return true;
        }
        reader.Rewind(reader.Consumed - startConsumed);
        line = default;
        return false;
    }

    private static bool NameIs(ReadOnlySequence<byte> name, ReadOnlySpan<byte> expected) =>
        name.Length == expected.Length && (name.IsSingleSegment ? name.FirstSpan.SequenceEqual(expected) : name.ToArray().AsSpan().SequenceEqual(expected));

    private static bool AllDigits(ReadOnlySpan<byte> span)
    {
        foreach (var b in span) if (b is < (byte)'0' or > (byte)'9') return false;
        return true;
    }

    private static bool StartsWithPartialBom(SequenceReader<byte> reader)
    {
        var bom = Bom;
        var i = 0;
        while (reader.TryRead(out var b))
        {
            if (b != bom[i++]) return false;
        }
        return true;
    }

    public void Dispose()
    {
        if (_joined is not null) ArrayPool<byte>.Shared.Return(_joined);
        _joined = null;
    }
}
