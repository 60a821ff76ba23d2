namespace LLMux.Pipeline.Streaming.Decoders;

/// <summary>The value type byte of an AWS eventstream header.</summary>
public enum EventStreamHeaderType : byte
{
    BoolTrue = 0,
    BoolFalse = 1,
    Byte = 2,
    Short = 3,
    Int = 4,
    Long = 5,
    ByteArray = 6,
    String = 7,
    Timestamp = 8,
    Uuid = 9,
}
