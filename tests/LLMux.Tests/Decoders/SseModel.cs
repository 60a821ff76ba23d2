using System.Buffers;
using System.Net.ServerSentEvents;
using System.Text;
using LLMux.Pipeline.Streaming.Decoders;

namespace LLMux.Tests.Decoders;

/// <summary>One event, materialised for comparison; an empty or absent type is "message".</summary>
internal sealed record SseEvent(string Data, string Type = "message", string Id = "", long? Retry = null)
{
    public static SseEvent From(in SseFrame frame) => new(
        Utf8(frame.Data),
        frame.EventType.IsEmpty ? "message" : Utf8(frame.EventType),
        Utf8(frame.Id),
        frame.Retry);

    private static string Utf8(ReadOnlySequence<byte> bytes) => Encoding.UTF8.GetString(bytes);
}

/// <summary>
/// A line-by-line transcription of the WHATWG event-stream interpretation, used as the reference, with switches for
/// the places where System.Net.ServerSentEvents.SseParser and our decoder deliberately differ from it:
/// <list type="bullet">
/// <item>End of stream: the spec (and SseParser) drop an unterminated last line and an event without its blank
/// line; SseDecoder with isFinalBlock treats the last line as a line and dispatches the event.</item>
/// <item>Blank line without data: the spec resets the event type; SseParser keeps it for the next event.</item>
/// <item>retry: SseParser ignores values above TimeSpan.MaxValue in milliseconds; SseDecoder keeps any long. SseParser
/// also takes digits followed by NULs as a number (long.TryParse skips trailing NULs); the spec and SseDecoder do not.</item>
/// </list>
/// Event id and retry are reported on the next dispatched event (both keep the id across a blank line without
/// data; the spec's last-event-id buffer keeps it too).
/// </summary>
internal static class SseModel
{
    private static readonly long TimeSpanMaxMilliseconds = (long)TimeSpan.MaxValue.TotalMilliseconds;

    public static List<SseEvent> Decoder(byte[] input) => Parse(input, dispatchAtEnd: true, sseParser: false);

    public static List<SseEvent> SseParserLike(byte[] input) => Parse(input, dispatchAtEnd: false, sseParser: true);

    private static List<SseEvent> Parse(byte[] input, bool dispatchAtEnd, bool sseParser)
    {
        var events = new List<SseEvent>();
        var text = input.AsSpan();
        if (text.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) text = text[3..];

        var data = new StringBuilder();
        var hasData = false;
        string? type = null, id = null;
        long? retry = null;

        while (true)
        {
            var end = text.IndexOfAny((byte)'\r', (byte)'\n');
            ReadOnlySpan<byte> line;
            if (end < 0)
            {
                if (!dispatchAtEnd || text.IsEmpty) break;
                line = text;
                text = [];
            }
            else
            {
                line = text[..end];
                var eol = text[end] == '\r' && end + 1 < text.Length && text[end + 1] == '\n' ? 2 : 1;
                text = text[(end + eol)..];
            }

            if (line.IsEmpty)
            {
                if (hasData)
                {
                    events.Add(new SseEvent(data.ToString(), string.IsNullOrEmpty(type) ? "message" : type, id ?? "", retry));
                    data.Clear();
                    hasData = false;
                    type = null;
                    id = null;
                    retry = null;
                }
                else if (!sseParser) type = null;
                continue;
            }
            if (line[0] == ':') continue;

            var colon = line.IndexOf((byte)':');
            var name = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? [] : line[(colon + 1)..];
            if (!value.IsEmpty && value[0] == ' ') value = value[1..];

            switch (Encoding.UTF8.GetString(name))
            {
                case "data":
                    if (hasData) data.Append('\n');
                    data.Append(Encoding.UTF8.GetString(value));
                    hasData = true;
                    break;
                case "event":
                    type = Encoding.UTF8.GetString(value);
                    break;
                case "id":
                    if (!value.Contains((byte)0)) id = Encoding.UTF8.GetString(value);
                    break;
                case "retry":
                    // SseParser's trailing-NUL quirk (see the class remarks).
                    if (sseParser) value = value.TrimEnd((byte)0);
                    if (value.Length > 0 && value.IndexOfAnyExceptInRange((byte)'0', (byte)'9') < 0
                        && long.TryParse(value, out var ms) && (!sseParser || ms <= TimeSpanMaxMilliseconds)) retry = ms;
                    break;
            }

            if (end < 0) break;
        }

        if (dispatchAtEnd && hasData)
            events.Add(new SseEvent(data.ToString(), string.IsNullOrEmpty(type) ? "message" : type, id ?? "", retry));
        return events;
    }

    /// <summary>What System.Net.ServerSentEvents.SseParser makes of the whole input.</summary>
    public static List<SseEvent> RunSseParser(byte[] input)
    {
        var events = new List<SseEvent>();
        var parser = SseParser.Create(new MemoryStream(input), static (_, data) => Encoding.UTF8.GetString(data));
        foreach (var item in parser.Enumerate())
        {
            long? retry = item.ReconnectionInterval is { } interval ? interval.Ticks / TimeSpan.TicksPerMillisecond : null;
            events.Add(new SseEvent(item.Data, string.IsNullOrEmpty(item.EventType) ? "message" : item.EventType, item.EventId ?? "", retry));
        }
        return events;
    }

    /// <summary>Our decoder over the given reads.</summary>
    public static List<SseEvent> RunDecoder(IEnumerable<ReadOnlyMemory<byte>> chunks, Layout layout = Layout.Segments)
    {
        using var decoder = new SseDecoder();
        return PipeLoop.Run<SseEvent>(chunks, (ref ReadOnlySequence<byte> buffer, bool isFinal, out SseEvent item) =>
        {
            if (decoder.TryRead(ref buffer, isFinal, out var frame))
            {
                item = SseEvent.From(frame);
                return true;
            }
            item = null!;
            return false;
        }, layout);
    }
}
