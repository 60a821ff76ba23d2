using System.Buffers;

namespace LLMux.Pipeline.Streaming.Decoders;

/// <summary>
/// Splits a streamed JSON array (<c>[ {...}, {...} ]</c>, Gemini's <c>streamGenerateContent</c> without
/// <c>alt=sse</c>) into its top-level elements as each one completes, without copying: an element is a slice
/// of the input.
/// </summary>
/// <remarks>
/// The decoder checks the array's structure (brackets, strings, commas); the JSON inside an element is checked
/// by whoever reads it (<c>Utf8JsonReader</c>). It remembers how far it has scanned an unfinished element, so
/// callers must hand back the unconsumed bytes unchanged, followed by new ones (a <c>PipeReader</c> loop).
/// Malformed input throws <see cref="InvalidDataException"/>.
/// </remarks>
public sealed class JsonArrayDecoder
{
    /// <summary>The default bound on one element: larger input is an error, never an unbounded buffer.</summary>
    public const int DefaultMaxElementLength = 16 * 1024 * 1024;

    // Same nesting bound as Utf8JsonReader's default; one bit per open bracket (1 = object).
    private const int MaxDepth = 64;

    private static readonly SearchValues<byte> Structural = SearchValues.Create("\"{}[]"u8);
    private static readonly SearchValues<byte> StringSpecial = SearchValues.Create("\"\\"u8);
    private static readonly SearchValues<byte> ScalarEnd = SearchValues.Create(" \t\r\n,]"u8);

    private readonly int _maxElementLength;

    private Phase _phase;
    private long _scanned;      // bytes of the current element already scanned (the buffer starts at the element)
    private int _depth;
    private ulong _objects;     // bit i set: the bracket open at depth i+1 is '{'
    private bool _inString;
    private bool _escape;
    private ElementKind _kind;

    public JsonArrayDecoder(int maxElementLength = DefaultMaxElementLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxElementLength, 1);
        _maxElementLength = maxElementLength;
    }

    private enum Phase : byte { BeforeArray, BeforeFirstElement, BeforeElement, InElement, AfterElement, Done }

    private enum ElementKind : byte { Container, String, Scalar }

    /// <summary>
    /// Reads the next complete top-level element from <paramref name="buffer"/>, advancing it past the element
    /// (and the whitespace and separators before it). Returns false when more input is needed or the array has
    /// ended. With <paramref name="isFinalBlock"/> an array that is not closed is an error.
    /// </summary>
    /// <exception cref="InvalidDataException">The input is not a JSON array, or it ended early.</exception>
    public bool TryRead(ref ReadOnlySequence<byte> buffer, bool isFinalBlock, out ReadOnlySequence<byte> element)
    {
        element = default;
        while (true)
        {
            if (_phase == Phase.InElement)
            {
                if (ScanElement(in buffer, out var length))
                {
                    element = buffer.Slice(0, length);
                    buffer = buffer.Slice(length);
                    _phase = Phase.AfterElement;
                    _scanned = 0;
                    return true;
                }
                if (_scanned > _maxElementLength)
                    throw new InvalidDataException($"JSON array element is longer than {_maxElementLength} bytes");
                if (isFinalBlock)
                    throw new InvalidDataException($"JSON array stream ended inside an element ({buffer.Length} bytes unfinished)");
                return false;
            }

            if (!TrySkipWhitespace(ref buffer, out var next))
            {
                if (isFinalBlock && _phase != Phase.Done)
                    throw new InvalidDataException(_phase == Phase.BeforeArray
                        ? "JSON array stream was empty: expected '['"
                        : "JSON array stream ended before its closing ']'");
                return false;
            }

            switch (_phase)
            {
                case Phase.BeforeArray:
                    if (next != (byte)'[') throw Unexpected(next, "expected '[' to start the array");
                    buffer = buffer.Slice(1);
                    _phase = Phase.BeforeFirstElement;
                    break;
                case Phase.BeforeFirstElement when next == (byte)']':
                    buffer = buffer.Slice(1);
                    _phase = Phase.Done;
                    break;
                case Phase.BeforeFirstElement:
                case Phase.BeforeElement:
                    StartElement(next);
                    break;
                case Phase.AfterElement:
                    if (next == (byte)',') _phase = Phase.BeforeElement;
                    else if (next == (byte)']') _phase = Phase.Done;
                    else throw Unexpected(next, "expected ',' or ']' after an array element");
                    buffer = buffer.Slice(1);
                    break;
                case Phase.Done:
                    throw Unexpected(next, "nothing may follow the array's closing ']'");
            }
        }
    }

    private void StartElement(byte first)
    {
        _phase = Phase.InElement;
        _scanned = 0;
        _depth = 0;
        _objects = 0;
        _inString = false;
        _escape = false;
        if (first is (byte)'{' or (byte)'[') _kind = ElementKind.Container;
        else if (first == (byte)'"') _kind = ElementKind.String;
        else if (first is (byte)'-' or (>= (byte)'0' and <= (byte)'9') or (byte)'t' or (byte)'f' or (byte)'n') _kind = ElementKind.Scalar;
        else throw Unexpected(first, "expected an array element");
    }

    /// <summary>Continues scanning the element at the start of <paramref name="buffer"/>; true with its length once complete.</summary>
    private bool ScanElement(in ReadOnlySequence<byte> buffer, out long length)
    {
        if (buffer.IsSingleSegment)
        {
            var end = ScanSegment(buffer.FirstSpan[(int)_scanned..]);
            if (end >= 0) { length = _scanned + end; return true; }
            _scanned = buffer.Length;
            length = 0;
            return false;
        }

        foreach (var memory in buffer.Slice(_scanned))
        {
            var end = ScanSegment(memory.Span);
            if (end >= 0) { length = _scanned + end; return true; }
            _scanned += memory.Length;
        }
        length = 0;
        return false;
    }

    /// <summary>Scans one piece of the element; returns the element's end within it, or -1 when it goes on.</summary>
    private int ScanSegment(ReadOnlySpan<byte> span)
    {
        var i = 0;
        if (_kind == ElementKind.Scalar)
        {
            // A number, true, false or null ends at whitespace, ',' or ']' (only those may follow it).
            var found = span.IndexOfAny(ScalarEnd);
            var scalar = found < 0 ? span : span[..found];
            foreach (var b in scalar)
            {
                if (!(b is (>= (byte)'0' and <= (byte)'9') or (>= (byte)'a' and <= (byte)'z') or (byte)'-' or (byte)'+' or (byte)'.' or (byte)'E'))
                    throw Unexpected(b, "inside a number or literal");
            }
            return found;
        }

        while (i < span.Length)
        {
            if (_inString)
            {
                if (_escape)
                {
                    // The byte after a backslash never ends the string (\" and \\ included).
                    _escape = false;
                    i++;
                    continue;
                }
                var found = span[i..].IndexOfAny(StringSpecial);
                if (found < 0) return -1;
                i += found;
                if (span[i++] == (byte)'\\') { _escape = true; continue; }
                _inString = false;
                if (_depth == 0) return i; // a top-level string element
                continue;
            }

            if (_kind == ElementKind.String && _depth == 0)
            {
                // The opening quote of a top-level string element.
                _inString = true;
                i++;
                continue;
            }

            var next = span[i..].IndexOfAny(Structural);
            if (next < 0) return -1;
            i += next;
            var b = span[i++];
            switch (b)
            {
                case (byte)'"':
                    _inString = true;
                    break;
                case (byte)'{':
                case (byte)'[':
                    if (_depth == MaxDepth) throw new InvalidDataException($"JSON array element nests deeper than {MaxDepth} levels");
                    if (b == (byte)'{') _objects |= 1UL << _depth;
                    else _objects &= ~(1UL << _depth);
                    _depth++;
                    break;
                default: // '}' or ']'
                    if (_depth == 0) throw Unexpected(b, "a closing bracket without its opening one");
                    _depth--;
                    var isObject = (_objects & (1UL << _depth)) != 0;
                    if (isObject != (b == (byte)'}')) throw Unexpected(b, isObject ? "expected '}' to close an object" : "expected ']' to close an array");
                    if (_depth == 0) return i;
                    break;
            }
        }
        return -1;
    }

    /// <summary>Drops JSON whitespace; false when nothing else is left, otherwise the next byte.</summary>
    private static bool TrySkipWhitespace(ref ReadOnlySequence<byte> buffer, out byte next)
    {
        var span = buffer.FirstSpan;
        var skip = span.IndexOfAnyExcept(" \t\r\n"u8);
        if (skip >= 0)
        {
            if (skip > 0) buffer = buffer.Slice(skip);
            next = span[skip];
            return true;
        }
        var reader = new SequenceReader<byte>(buffer);
        reader.AdvancePastAny(" \t\r\n"u8);
        buffer = buffer.Slice(reader.Position);
        return reader.TryPeek(out next);
    }

    private static InvalidDataException Unexpected(byte b, string what) =>
        new(b is >= 0x20 and < 0x7F
            ? $"JSON array stream: unexpected '{(char)b}': {what}"
            : $"JSON array stream: unexpected byte 0x{b:X2}: {what}");
}
