using System.Buffers;

namespace LLMux.Pipeline.Streaming.Decoders;

/// <summary>
/// Decodes the WHATWG <c>text/event-stream</c> format from a <see cref="ReadOnlySequence{T}"/> without copying:
/// frames are slices of the input. Only an event with several data lines uses one pooled copy.
/// </summary>
/// <remarks>
/// Follows https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation with one
/// deliberate extension: at the end of the stream (<c>isFinalBlock</c>) an unterminated last line is still a
/// line, and an event without its closing blank line is still dispatched (the spec discards it).
/// The decoder keeps how far it has scanned the unfinished event, so an event that arrives in many small
/// pieces is scanned once: callers must hand back the unconsumed bytes unchanged, followed by new ones
/// (what a <c>PipeReader</c> loop with <c>AdvanceTo(buffer.Start, buffer.End)</c> does).
/// The shape nearly every LLM event has (an optional <c>event:</c> line, one <c>data:</c> line, a blank line) is read
/// in a single pass; everything else goes line by line through the general path.
/// </remarks>
public sealed class SseDecoder : IDisposable
{
    private const byte CR = (byte)'\r';
    private const byte LF = (byte)'\n';
    private static ReadOnlySpan<byte> Bom => [0xEF, 0xBB, 0xBF];

    /// <summary>The default bound on one unfinished event (an upstream that never ends a line must not grow memory forever).</summary>
    public const int DefaultMaxEventLength = 16 * 1024 * 1024;

    private readonly int _maxEventLength;
    private bool _started;

    /// <param name="maxEventLength">Longest event, in bytes, the decoder waits for; a longer one is an <see cref="InvalidDataException"/>.</param>
    public SseDecoder(int maxEventLength = DefaultMaxEventLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEventLength, 1);
        _maxEventLength = maxEventLength;
    }

    // Scan state of the unfinished event, as offsets from the start of the caller's buffer (which stays at the
    // start of that event until it is dispatched).
    private long _scanned;      // bytes of complete lines already interpreted
    private long _searched;     // bytes known to hold no line end (>= _scanned, or 0)
    private bool _skipLf;       // the last line ended with CR at the end of the input: an LF next is part of it

    private int _dataCount;
    private long _dataOffset;
    private long _dataLength;
    private byte[]? _joined;
    private int _joinedLength;
    private long _typeOffset = -1;
    private long _typeLength;
    private long _idOffset = -1;
    private long _idLength;
    private byte[]? _idCopy;    // an id that outlived a blank line without data (its bytes were consumed)
    private int _idCopyLength = -1;
    private long? _retry;

    /// <summary>
    /// Reads the next complete event from <paramref name="buffer"/>, advancing it past the bytes consumed.
    /// Returns false, leaving the unfinished event in <paramref name="buffer"/>, when more input is needed.
    /// With <paramref name="isFinalBlock"/> a last event without its blank line is still dispatched.
    /// </summary>
    public bool TryRead(ref ReadOnlySequence<byte> buffer, bool isFinalBlock, out SseFrame frame)
    {
        if (TryReadEvent(ref buffer, isFinalBlock, out frame)) return true;
        // What is left is one unfinished event (plus at most a partial BOM): bound how long we wait for its end.
        if (buffer.Length > _maxEventLength)
            throw new InvalidDataException($"an SSE event is longer than {_maxEventLength} bytes without ending");
        return false;
    }

    private bool TryReadEvent(ref ReadOnlySequence<byte> buffer, bool isFinalBlock, out SseFrame frame)
    {
        frame = default;
        if (!_started && !TrySkipBom(ref buffer, isFinalBlock)) return false;

        var first = buffer.FirstSpan;
        // Nothing pending: try the shape nearly every LLM event has, "[event: t EOL] data: d EOL EOL", in one pass.
        if (_scanned == 0 && _searched == 0 && !_skipLf && _idCopyLength < 0 && _retry is null && TryReadSimpleEvent(ref buffer, first, out frame))
            return true;

        if (buffer.IsSingleSegment)
        {
            return ScanSpan(ref buffer, first, isFinalBlock, out frame);
        }

        // Multi-segment input: most events still sit inside the first segment; a simple one that crosses gets one pass.
        if (_scanned == 0 && _searched == 0 && !_skipLf && _idCopyLength < 0 && _retry is null && TryReadSimpleEvent(ref buffer, out frame))
            return true;
        if (Math.Max(_scanned, _searched) < first.Length && ScanSpan(ref buffer, first, endOfInput: false, out frame)) return true;
        return ScanSequence(ref buffer, isFinalBlock, out frame);
    }

    /// <summary>
    /// The fast path: an event that is at most an <c>event</c> line and one <c>data</c> line followed by a blank line,
    /// all inside <paramref name="span"/>. Anything else (comments, several data lines, an unfinished event, a CR at the
    /// end of the span) returns false without consuming, and the general path takes over from the same place.
    /// </summary>
    private static bool TryReadSimpleEvent(ref ReadOnlySequence<byte> buffer, ReadOnlySpan<byte> span, out SseFrame frame)
    {
        var pos = 0;
        int typeStart = -1, typeLength = 0;
        if (span.StartsWith("event:"u8))
        {
            typeStart = span.Length > 6 && span[6] == (byte)' ' ? 7 : 6;
            var typeEnd = LineEnd(span, typeStart, out pos);
            if (typeEnd < 0) goto Slow;
            typeLength = typeEnd - typeStart;
        }

        if (!span[pos..].StartsWith("data:"u8)) goto Slow;
        var dataStart = pos + 5;
        if (dataStart < span.Length && span[dataStart] == (byte)' ') dataStart++;
        var dataEnd = LineEnd(span, dataStart, out var next);
        if (dataEnd < 0 || next >= span.Length) goto Slow;

        // The blank line that dispatches.
        int consumed;
        if (span[next] == LF) consumed = next + 1;
        else if (span[next] == CR && next + 1 < span.Length) consumed = span[next + 1] == LF ? next + 2 : next + 1;
        else goto Slow;

        frame = new SseFrame(
            buffer.Slice(dataStart, dataEnd - dataStart),
            typeStart < 0 ? default : buffer.Slice(typeStart, typeLength),
            default,
            null);
        buffer = buffer.Slice(consumed);
        return true;

    Slow:
        frame = default;
        return false;
    }

    /// <summary>The fast path's shape, for an event that crosses segments.</summary>
    private static bool TryReadSimpleEvent(ref ReadOnlySequence<byte> buffer, out SseFrame frame)
    {
        var reader = new SequenceReader<byte>(buffer);
        var type = default(ReadOnlySequence<byte>);
        if (reader.IsNext("event:"u8, advancePast: true))
        {
            reader.IsNext((byte)' ', advancePast: true);
            var typeStart = reader.Position;
            if (!reader.TryAdvanceToAny("\r\n"u8, advancePastDelimiter: false)) goto Slow;
            type = buffer.Slice(typeStart, reader.Position);
            if (!TrySkipLineEnd(ref reader)) goto Slow;
        }

        if (!reader.IsNext("data:"u8, advancePast: true)) goto Slow;
        reader.IsNext((byte)' ', advancePast: true);
        var dataStart = reader.Position;
        if (!reader.TryAdvanceToAny("\r\n"u8, advancePastDelimiter: false)) goto Slow;
        var dataEnd = reader.Position;
        if (!TrySkipLineEnd(ref reader) || reader.End) goto Slow;

        // The blank line that dispatches.
        if (!TrySkipLineEnd(ref reader)) goto Slow;

        frame = new SseFrame(buffer.Slice(dataStart, dataEnd), type, default, null);
        buffer = buffer.Slice(reader.Position);
        return true;

    Slow:
        frame = default;
        return false;
    }

    /// <summary>Consumes a line end at the reader; false when there is none or a CR ends the input (maybe half a CRLF).</summary>
    private static bool TrySkipLineEnd(ref SequenceReader<byte> reader)
    {
        if (!reader.TryRead(out var b)) return false;
        if (b == LF) return true;
        if (b != CR || reader.End) return false;
        reader.IsNext(LF, advancePast: true);
        return true;
    }

    /// <summary>The end of the line starting at <paramref name="from"/>, and where the next line starts; -1 when unsure.</summary>
    private static int LineEnd(ReadOnlySpan<byte> span, int from, out int next)
    {
        next = 0;
        if (from > span.Length) return -1;
        var found = span[from..].IndexOfAny(CR, LF);
        if (found < 0) return -1;
        var end = from + found;
        if (span[end] == LF) next = end + 1;
        else if (end + 1 < span.Length) next = span[end + 1] == LF ? end + 2 : end + 1;
        else return -1; // a CR at the end of the span may be half of a CRLF
        return end;
    }

    /// <summary>Scans <paramref name="span"/> (the first segment of <paramref name="buffer"/>) from where the last call stopped.</summary>
    private bool ScanSpan(ref ReadOnlySequence<byte> buffer, ReadOnlySpan<byte> span, bool endOfInput, out SseFrame frame)
    {
        var pos = (int)_scanned;
        while (true)
        {
            if (_skipLf)
            {
                if (pos == span.Length) break;
                if (span[pos] == LF) pos++;
                _skipLf = false;
                _scanned = pos;
            }

            var searchFrom = _searched > pos ? (int)_searched : pos;
            var found = span.Slice(searchFrom).IndexOfAny(CR, LF);
            if (found < 0)
            {
                if (!endOfInput)
                {
                    _scanned = pos;
                    _searched = span.Length;
                    frame = default;
                    return false;
                }
                // End of the stream: an unterminated last line still counts.
                if (pos < span.Length) ProcessLine(in buffer, span.Slice(pos), pos, span.Length - pos, default);
                return DispatchAtEnd(ref buffer, out frame);
            }

            var lineEnd = searchFrom + found;
            var next = lineEnd + 1;
            if (span[lineEnd] == CR)
            {
                // CRLF is one line end; a CR at the end of the input may be the first half of one.
                if (next < span.Length) { if (span[next] == LF) next++; }
                else if (!endOfInput) _skipLf = true;
            }
            _searched = 0;

            if (lineEnd == pos)
            {
                // "If the line is empty (a blank line): Dispatch the event."
                if (Dispatch(ref buffer, next, out frame)) return true;
                span = span.Slice(next);
                pos = 0;
                continue;
            }

            ProcessLine(in buffer, span.Slice(pos, lineEnd - pos), pos, lineEnd - pos, default);
            pos = next;
            _scanned = pos;
        }

        _scanned = pos;
        frame = default;
        if (endOfInput) return DispatchAtEnd(ref buffer, out frame);
        return false;
    }

    /// <summary>The slow path: lines that cross segments, and segments after the first.</summary>
    private bool ScanSequence(ref ReadOnlySequence<byte> buffer, bool isFinalBlock, out SseFrame frame)
    {
        var reader = new SequenceReader<byte>(buffer);
        reader.Advance(_scanned);
        while (true)
        {
            if (_skipLf)
            {
                if (reader.End) break;
                reader.IsNext(LF, advancePast: true);
                _skipLf = false;
                _scanned = reader.Consumed;
            }

            var lineStart = reader.Consumed;
            var lineStartPosition = reader.Position;
            if (_searched > lineStart) reader.Advance(_searched - lineStart);
            if (!reader.TryAdvanceToAny("\r\n"u8, advancePastDelimiter: false))
            {
                if (!isFinalBlock)
                {
                    _scanned = lineStart;
                    _searched = buffer.Length;
                    frame = default;
                    return false;
                }
                if (lineStart < buffer.Length)
                {
                    var last = buffer.Slice(lineStartPosition);
                    ProcessLine(in buffer, last.IsSingleSegment ? last.FirstSpan : default, lineStart, last.Length, last);
                }
                return DispatchAtEnd(ref buffer, out frame);
            }

            var lineEnd = reader.Consumed;
            var lineEndPosition = reader.Position;
            reader.TryRead(out var newline);
            if (newline == CR)
            {
                if (!reader.End) reader.IsNext(LF, advancePast: true);
                else if (!isFinalBlock) _skipLf = true;
            }
            _searched = 0;

            if (lineEnd == lineStart)
            {
                if (Dispatch(ref buffer, reader.Consumed, out frame)) return true;
                reader = new SequenceReader<byte>(buffer);
                continue;
            }

            var line = buffer.Slice(lineStartPosition, lineEndPosition);
            ProcessLine(in buffer, line.IsSingleSegment ? line.FirstSpan : default, lineStart, lineEnd - lineStart, line);
            _scanned = reader.Consumed;
        }

        _scanned = reader.Consumed;
        frame = default;
        if (isFinalBlock) return DispatchAtEnd(ref buffer, out frame);
        return false;
    }

    /// <summary>
    /// Interprets one non-empty line. <paramref name="span"/> is the whole line when it is contiguous, otherwise
    /// empty and <paramref name="line"/> holds it.
    /// </summary>
    private void ProcessLine(in ReadOnlySequence<byte> buffer, ReadOnlySpan<byte> span, long offset, long length, ReadOnlySequence<byte> line)
    {
        var contiguous = span.Length == length;
        // Known field names are at most 5 bytes: 8 bytes of the line tell the field and where its value starts.
        Span<byte> headCopy = stackalloc byte[8];
        scoped ReadOnlySpan<byte> head;
        if (contiguous) head = span.Length > 8 ? span[..8] : span;
        else
        {
            var n = (int)Math.Min(8, length);
            line.Slice(0, n).CopyTo(headCopy);
            head = headCopy[..n];
        }

        // "If the line starts with a U+003A COLON character (:) Ignore the line."
        if (head[0] == (byte)':') return;

        int valueStart;
        scoped ReadOnlySpan<byte> name;
        var colon = head.IndexOf((byte)':');
        if (colon >= 0)
        {
            // "Collect the characters on the line before the first U+003A COLON character (:), and let field be that string."
            name = head[..colon];
            valueStart = colon + 1;
        }
        else if (length <= head.Length)
        {
            // "using the whole line as the field name, and the empty string as the field value."
            name = head;
            valueStart = (int)length;
        }
        else return; // a field name longer than any we know

        var field = Field(name);
        if (field == FieldKind.Unknown) return; // "Otherwise: The field is ignored."

        // "If value starts with a U+0020 SPACE character, remove it from value." (valueStart <= 6 lies within head)
        if (valueStart < length && head[valueStart] == (byte)' ') valueStart++;
        var valueOffset = offset + valueStart;
        var valueLength = length - valueStart;

        switch (field)
        {
            case FieldKind.Data:
                // "Append the field value to the data buffer, then append a single U+000A LINE FEED (LF) character."
                if (_dataCount == 0)
                {
                    _dataOffset = valueOffset;
                    _dataLength = valueLength;
                }
                else
                {
                    if (_dataCount == 1)
                    {
                        EnsureJoined(checked((int)(_dataLength + 1 + valueLength)));
                        buffer.Slice(_dataOffset, _dataLength).CopyTo(_joined);
                        _joinedLength = (int)_dataLength;
                    }
                    EnsureJoined(checked((int)(_joinedLength + 1 + valueLength)));
                    _joined![_joinedLength++] = LF;
                    if (contiguous) span[valueStart..].CopyTo(_joined.AsSpan(_joinedLength));
                    else line.Slice(valueStart).CopyTo(_joined.AsSpan(_joinedLength));
                    _joinedLength += (int)valueLength;
                }
                _dataCount++;
                break;
            case FieldKind.Event:
                // "Set the event type buffer to field value."
                _typeOffset = valueOffset;
                _typeLength = valueLength;
                break;
            case FieldKind.Id:
                // "If the field value does not contain U+0000 NULL, then set the last event ID buffer to the field value."
                var hasNull = contiguous ? span[valueStart..].Contains((byte)0) : line.Slice(valueStart).PositionOf((byte)0) is not null;
                if (!hasNull)
                {
                    _idOffset = valueOffset;
                    _idLength = valueLength;
                    _idCopyLength = -1;
                }
                break;
            case FieldKind.Retry:
                // "If the field value consists of only ASCII digits, then interpret the field value as an integer in base ten."
                if (contiguous) { if (TryParseDigits(span[valueStart..], out var ms)) _retry = ms; }
                else if (TryParseDigits(line.Slice(valueStart), out var ms)) _retry = ms;
                break;
        }
    }

    private enum FieldKind : byte { Unknown, Data, Event, Id, Retry }

    private static FieldKind Field(ReadOnlySpan<byte> name) => name.Length switch
    {
        4 when name.SequenceEqual("data"u8) => FieldKind.Data,
        5 when name.SequenceEqual("event"u8) => FieldKind.Event,
        2 when name.SequenceEqual("id"u8) => FieldKind.Id,
        5 when name.SequenceEqual("retry"u8) => FieldKind.Retry,
        _ => FieldKind.Unknown,
    };

    /// <summary>A blank line ended at <paramref name="next"/>: dispatch the event, or forget an event without data.</summary>
    private bool Dispatch(ref ReadOnlySequence<byte> buffer, long next, out SseFrame frame)
    {
        if (_dataCount > 0)
        {
            frame = CreateFrame(in buffer);
            buffer = buffer.Slice(next);
            ResetAfterDispatch();
            return true;
        }

        // "If the data buffer is an empty string, set the data buffer and the event type buffer to the empty string
        // and return." The last event ID and the retry value survive: keep the id, whose bytes are about to go.
        if (_idOffset >= 0)
        {
            var length = (int)_idLength;
            if (_idCopy is null || _idCopy.Length < length)
            {
                if (_idCopy is not null) ArrayPool<byte>.Shared.Return(_idCopy);
                _idCopy = ArrayPool<byte>.Shared.Rent(Math.Max(length, 16));
            }
            buffer.Slice(_idOffset, length).CopyTo(_idCopy);
            _idCopyLength = length;
            _idOffset = -1;
        }
        _typeOffset = -1;
        buffer = buffer.Slice(next);
        _scanned = 0;
        _searched = 0;
        frame = default;
        return false;
    }

    /// <summary>End of the stream: dispatch a pending event that has data, consume everything.</summary>
    private bool DispatchAtEnd(ref ReadOnlySequence<byte> buffer, out SseFrame frame)
    {
        var dispatched = _dataCount > 0;
        frame = dispatched ? CreateFrame(in buffer) : default;
        buffer = buffer.Slice(buffer.End);
        ResetAfterDispatch();
        _skipLf = false;
        return dispatched;
    }

    private SseFrame CreateFrame(in ReadOnlySequence<byte> buffer)
    {
        var data = _dataCount == 1 ? buffer.Slice(_dataOffset, _dataLength) : new ReadOnlySequence<byte>(_joined!, 0, _joinedLength);
        var type = _typeOffset >= 0 ? buffer.Slice(_typeOffset, _typeLength) : default;
        var id = _idOffset >= 0 ? buffer.Slice(_idOffset, _idLength)
            : _idCopyLength >= 0 ? new ReadOnlySequence<byte>(_idCopy!, 0, _idCopyLength) : default;
        return new SseFrame(data, type, id, _retry);
    }

    private void ResetAfterDispatch()
    {
        _scanned = 0;
        _searched = 0;
        _dataCount = 0;
        _joinedLength = 0;
        _typeOffset = -1;
        _idOffset = -1;
        _idCopyLength = -1;
        _retry = null;
    }

    private bool TrySkipBom(ref ReadOnlySequence<byte> buffer, bool isFinalBlock)
    {
        // "One leading U+FEFF BYTE ORDER MARK character must be ignored if any are present."
        Span<byte> head = stackalloc byte[3];
        var n = (int)Math.Min(3, buffer.Length);
        buffer.Slice(0, n).CopyTo(head);
        if (n < 3 && !isFinalBlock && Bom.StartsWith(head[..n])) return false;
        if (n == 3 && head.SequenceEqual(Bom)) buffer = buffer.Slice(3);
        _started = true;
        return true;
    }

    private static bool TryParseDigits(ReadOnlySpan<byte> digits, out long value)
    {
        value = 0;
        if (digits.IsEmpty) return false;
        foreach (var b in digits)
        {
            var d = (uint)(b - '0');
            if (d > 9) return false;
            if (value > (long.MaxValue - d) / 10) return false; // too large to mean anything
            value = value * 10 + d;
        }
        return true;
    }

    private static bool TryParseDigits(ReadOnlySequence<byte> digits, out long value)
    {
        value = 0;
        if (digits.IsEmpty) return false;
        foreach (var memory in digits)
        {
            foreach (var b in memory.Span)
            {
                var d = (uint)(b - '0');
                if (d > 9) return false;
                if (value > (long.MaxValue - d) / 10) return false;
                value = value * 10 + d;
            }
        }
        return true;
    }

    private void EnsureJoined(int size)
    {
        if (_joined is not null && _joined.Length >= size) return;
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(size, 256));
        if (_joined is not null)
        {
            _joined.AsSpan(0, _joinedLength).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_joined);
        }
        _joined = bigger;
    }

    public void Dispose()
    {
        if (_joined is not null) ArrayPool<byte>.Shared.Return(_joined);
        if (_idCopy is not null) ArrayPool<byte>.Shared.Return(_idCopy);
        _joined = null;
        _idCopy = null;
    }
}
