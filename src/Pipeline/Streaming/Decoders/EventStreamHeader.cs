using System.Buffers;
using System.Buffers.Binary;

namespace LLMux.Pipeline.Streaming.Decoders;

/// <summary>One header of an eventstream message: slices of the message, valid as long as the message is.</summary>
public readonly struct EventStreamHeader
{
    internal EventStreamHeader(ReadOnlySequence<byte> name, EventStreamHeaderType type, ReadOnlySequence<byte> value)
    {
        Name = name;
        Type = type;
        Value = value;
    }

    /// <summary>The header name (UTF-8), e.g. <c>:event-type</c>.</summary>
    public ReadOnlySequence<byte> Name { get; }
    public EventStreamHeaderType Type { get; }
    /// <summary>The raw value: big-endian for numbers, without the length prefix for strings and byte arrays, empty for booleans.</summary>
    public ReadOnlySequence<byte> Value { get; }

    public bool NameIs(ReadOnlySpan<byte> name) => ByteSequence.EqualTo(Name, name);

    public bool ValueIs(ReadOnlySpan<byte> value) => ByteSequence.EqualTo(Value, value);

    /// <summary>The value of a boolean header.</summary>
    public bool AsBoolean() => Type switch
    {
        EventStreamHeaderType.BoolTrue => true,
        EventStreamHeaderType.BoolFalse => false,
        _ => throw WrongType("a boolean"),
    };

    /// <summary>The value of a byte, short, int, long or timestamp (milliseconds) header, sign-extended.</summary>
    public long AsInt64()
    {
        Span<byte> raw = stackalloc byte[8];
        var length = (int)Value.Length;
        if (Type is not (EventStreamHeaderType.Byte or EventStreamHeaderType.Short or EventStreamHeaderType.Int
            or EventStreamHeaderType.Long or EventStreamHeaderType.Timestamp)) throw WrongType("an integer");
        Value.CopyTo(raw);
        return length switch
        {
            1 => (sbyte)raw[0],
            2 => BinaryPrimitives.ReadInt16BigEndian(raw),
            4 => BinaryPrimitives.ReadInt32BigEndian(raw),
            _ => BinaryPrimitives.ReadInt64BigEndian(raw),
        };
    }

    /// <summary>The value of a timestamp header.</summary>
    public DateTimeOffset AsTimestamp() => Type == EventStreamHeaderType.Timestamp
        ? DateTimeOffset.FromUnixTimeMilliseconds(AsInt64())
        : throw WrongType("a timestamp");

    /// <summary>The value of a UUID header (its 16 bytes in network order).</summary>
    public Guid AsGuid()
    {
        if (Type != EventStreamHeaderType.Uuid) throw WrongType("a UUID");
        Span<byte> raw = stackalloc byte[16];
        Value.CopyTo(raw);
        return new Guid(raw, bigEndian: true);
    }

    private InvalidOperationException WrongType(string wanted) => new($"eventstream header is of type {Type}, not {wanted}");
}
