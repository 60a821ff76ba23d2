using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace LLMux.Emulators;

/// <summary>
/// Writes AWS eventstream messages as AWS sends them: prelude (total length, headers length, CRC32 of both),
/// string headers, payload, CRC32 of everything before it. Test-side only; LLMux decodes, never encodes.
/// </summary>
public static class EventStreamEncoder
{
    public static byte[] Encode(IReadOnlyList<KeyValuePair<string, string>> headers, ReadOnlySpan<byte> payload)
    {
        var headerBytes = new MemoryStream();
        Span<byte> len = stackalloc byte[2];
        foreach (var (name, value) in headers)
        {
            var n = Encoding.UTF8.GetBytes(name);
            var v = Encoding.UTF8.GetBytes(value);
            headerBytes.WriteByte((byte)n.Length);
            headerBytes.Write(n);
            headerBytes.WriteByte(7); // string
            BinaryPrimitives.WriteUInt16BigEndian(len, (ushort)v.Length);
            headerBytes.Write(len);
            headerBytes.Write(v);
        }
        return Frame(headerBytes.ToArray(), payload);
    }

    /// <summary>A whole message around an already encoded header block: prelude, CRCs, payload.</summary>
    public static byte[] Frame(ReadOnlySpan<byte> headerBlock, ReadOnlySpan<byte> payload)
    {
        var total = 12 + headerBlock.Length + payload.Length + 4;
        var message = new byte[total];
        BinaryPrimitives.WriteUInt32BigEndian(message, (uint)total);
        BinaryPrimitives.WriteUInt32BigEndian(message.AsSpan(4), (uint)headerBlock.Length);
        BinaryPrimitives.WriteUInt32BigEndian(message.AsSpan(8), Crc32.HashToUInt32(message.AsSpan(0, 8)));
        headerBlock.CopyTo(message.AsSpan(12));
        payload.CopyTo(message.AsSpan(12 + headerBlock.Length));
        BinaryPrimitives.WriteUInt32BigEndian(message.AsSpan(total - 4), Crc32.HashToUInt32(message.AsSpan(0, total - 4)));
        return message;
    }

    /// <summary>A ConverseStream event (<c>:message-type event</c>) with a JSON payload.</summary>
    public static byte[] Event(string eventType, string json) => Encode(
        [new(":event-type", eventType), new(":content-type", "application/json"), new(":message-type", "event")],
        Encoding.UTF8.GetBytes(json));

    /// <summary>A modeled error inside the stream (<c>:message-type exception</c>).</summary>
    public static byte[] Exception(string exceptionType, string message) => Encode(
        [new(":exception-type", exceptionType), new(":content-type", "application/json"), new(":message-type", "exception")],
        Encoding.UTF8.GetBytes("{\"message\":" + System.Text.Json.JsonSerializer.Serialize(message) + "}"));
}
