using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using LLMux.Pipeline.Streaming.Decoders;

namespace LLMux.Tests.Decoders;

/// <summary>One header to encode: its raw value bytes (big-endian numbers; no length prefix for strings and byte arrays).</summary>
internal sealed record TestHeader(string Name, EventStreamHeaderType Type, byte[] Value)
{
    public static TestHeader String(string name, string value) => new(name, EventStreamHeaderType.String, Encoding.UTF8.GetBytes(value));
    public static TestHeader Bool(string name, bool value) => new(name, value ? EventStreamHeaderType.BoolTrue : EventStreamHeaderType.BoolFalse, []);
    public static TestHeader Byte(string name, sbyte value) => new(name, EventStreamHeaderType.Byte, [(byte)value]);
    public static TestHeader Short(string name, short value) => new(name, EventStreamHeaderType.Short, BigEndian(value, 2));
    public static TestHeader Int(string name, int value) => new(name, EventStreamHeaderType.Int, BigEndian(value, 4));
    public static TestHeader Long(string name, long value) => new(name, EventStreamHeaderType.Long, BigEndian(value, 8));
    public static TestHeader Bytes(string name, byte[] value) => new(name, EventStreamHeaderType.ByteArray, value);
    public static TestHeader Timestamp(string name, long unixMilliseconds) => new(name, EventStreamHeaderType.Timestamp, BigEndian(unixMilliseconds, 8));
    public static TestHeader Uuid(string name, Guid value) => new(name, EventStreamHeaderType.Uuid, value.ToByteArray(bigEndian: true));

    private static byte[] BigEndian(long value, int size)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, value);
        return bytes[(8 - size)..];
    }
}

/// <summary>Writes AWS eventstream messages from the spec, CRCs included, for tests and bench data.</summary>
internal static class EventStreamEncoder
{
    public static byte[] Encode(IEnumerable<TestHeader> headers, byte[] payload) => EncodeRaw(HeaderBlock(headers), payload);

    public static byte[] HeaderBlock(IEnumerable<TestHeader> headers)
    {
        var block = new MemoryStream();
        foreach (var header in headers)
        {
            var name = Encoding.UTF8.GetBytes(header.Name);
            block.WriteByte((byte)name.Length);
            block.Write(name);
            block.WriteByte((byte)header.Type);
            if (header.Type is EventStreamHeaderType.String or EventStreamHeaderType.ByteArray)
            {
                block.WriteByte((byte)(header.Value.Length >> 8));
                block.WriteByte((byte)header.Value.Length);
            }
            block.Write(header.Value);
        }
        return block.ToArray();
    }

    /// <summary>A message around an arbitrary header block (valid CRCs, whatever the headers say).</summary>
    public static byte[] EncodeRaw(byte[] headerBlock, byte[] payload) => LLMux.Emulators.EventStreamEncoder.Frame(headerBlock, payload);

    /// <summary>A bare prelude with a valid CRC, claiming whatever lengths the test wants.</summary>
    public static byte[] Prelude(uint totalLength, uint headersLength)
    {
        var prelude = new byte[12];
        BinaryPrimitives.WriteUInt32BigEndian(prelude, totalLength);
        BinaryPrimitives.WriteUInt32BigEndian(prelude.AsSpan(4), headersLength);
        BinaryPrimitives.WriteUInt32BigEndian(prelude.AsSpan(8), Crc32.HashToUInt32(prelude.AsSpan(0, 8)));
        return prelude;
    }

    /// <summary>A Bedrock ConverseStream event as the service frames it.</summary>
    public static byte[] BedrockEvent(string eventType, string json) => Encode(
    [
        TestHeader.String(":event-type", eventType),
        TestHeader.String(":content-type", "application/json"),
        TestHeader.String(":message-type", "event"),
    ], Encoding.UTF8.GetBytes(json));

    public static byte[] BedrockException(string exceptionType, string message) => Encode(
    [
        TestHeader.String(":exception-type", exceptionType),
        TestHeader.String(":content-type", "application/json"),
        TestHeader.String(":message-type", "exception"),
    ], Encoding.UTF8.GetBytes($"{{\"message\":\"{message}\"}}"));
}
