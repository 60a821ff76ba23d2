using System.Buffers;

namespace LLMux.Pipeline.Streaming.Decoders;

/// <summary>
/// Splits newline-delimited JSON (<c>application/x-ndjson</c>, Ollama's native stream) into lines without copying:
/// a line is a slice of the input, without its <c>\n</c> (or <c>\r\n</c>). Blank lines are skipped.
/// </summary>
/// <remarks>
/// The decoder remembers how far it searched an unfinished line, so a long line arriving in many pieces is
/// scanned once: callers must hand back the unconsumed bytes unchanged, followed by new ones (a
/// <c>PipeReader</c> loop). With <c>isFinalBlock</c> an unterminated last line is still a line. The JSON inside a
/// line is checked by whoever reads it. A line longer than the bound throws <see cref="InvalidDataException"/>.
/// </remarks>
public sealed class NdjsonDecoder
{
    public const int DefaultMaxLineLength = 16 * 1024 * 1024;
    private const byte LF = (byte)'\n';
    private const byte CR = (byte)'\r';

    private readonly int _maxLineLength;
    private long _searched; // bytes at the start of the buffer known to hold no LF

    public NdjsonDecoder(int maxLineLength = DefaultMaxLineLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLineLength, 1);
        _maxLineLength = maxLineLength;
    }

    /// <summary>
    /// Reads the next non-blank line from <paramref name="buffer"/>, advancing it past the line and its end.
    /// Returns false, leaving the unfinished line in <paramref name="buffer"/>, when more input is needed.
    /// </summary>
    public bool TryRead(ref ReadOnlySequence<byte> buffer, bool isFinalBlock, out ReadOnlySequence<byte> line)
    {
        while (true)
        {
            long end;
            if (buffer.IsSingleSegment)
            {
                var span = buffer.FirstSpan;
                var from = (int)_searched;
                var found = span[from..].IndexOf(LF);
                end = found < 0 ? -1 : from + found;
            }
            else
            {
                var rest = buffer.Slice(_searched);
                var position = rest.PositionOf(LF);
                end = position is { } p ? _searched + rest.Slice(0, p).Length : -1;
            }

            if (end < 0)
            {
                if (buffer.Length > _maxLineLength) throw new InvalidDataException($"an NDJSON line is longer than {_maxLineLength} bytes");
                if (!isFinalBlock || buffer.IsEmpty)
                {
                    _searched = buffer.Length;
                    line = default;
                    return false;
                }
                // End of the stream: an unterminated last line still counts.
                line = TrimCr(buffer);
                buffer = buffer.Slice(buffer.End);
                _searched = 0;
                if (IsBlank(line)) { line = default; return false; }
                return true;
            }

            if (end > _maxLineLength) throw new InvalidDataException($"an NDJSON line is longer than {_maxLineLength} bytes");
            line = TrimCr(buffer.Slice(0, end));
            buffer = buffer.Slice(end + 1);
            _searched = 0;
            if (!IsBlank(line)) return true;
        }
    }

    private static ReadOnlySequence<byte> TrimCr(ReadOnlySequence<byte> line)
    {
        if (line.IsEmpty) return line;
        var last = line.Slice(line.Length - 1);
        return last.FirstSpan[0] == CR ? line.Slice(0, line.Length - 1) : line;
    }

    private static bool IsBlank(ReadOnlySequence<byte> line)
    {
        foreach (var segment in line)
        {
            foreach (var b in segment.Span)
                if (b is not ((byte)' ' or (byte)'\t' or CR)) return false;
        }
        return true;
    }
}
