using System.Buffers;
using System.Text;
using CsCheck;
using LLMux.Pipeline.Streaming.Decoders;
using Xunit;
using Aws = Amazon.Runtime.EventStreams;

namespace LLMux.Tests.Decoders;

public sealed class EventStreamDecoderTests
{
    /// <summary>A decoded message in a comparable form: every header in wire order, the known headers, the payload.</summary>
    private static string Describe(in EventStreamMessage message)
    {
        var text = new StringBuilder();
        foreach (var header in message.EnumerateHeaders())
            text.Append(Encoding.UTF8.GetString(header.Name)).Append(':').Append((int)header.Type).Append('=').Append(Convert.ToHexString(header.Value.ToArray())).Append(';');
        text.Append(" event-type=").Append(Encoding.UTF8.GetString(message.EventType))
            .Append(" message-type=").Append(Encoding.UTF8.GetString(message.MessageType))
            .Append(" exception-type=").Append(Encoding.UTF8.GetString(message.ExceptionType))
            .Append(" content-type=").Append(Encoding.UTF8.GetString(message.ContentType))
            .Append(" payload=").Append(Convert.ToHexString(message.Payload.ToArray()));
        return text.ToString();
    }

    /// <summary>The same description from the encoder's input.</summary>
    private static string Describe(IReadOnlyList<TestHeader> headers, byte[] payload)
    {
        var text = new StringBuilder();
        foreach (var header in headers) text.Append(header.Name).Append(':').Append((int)header.Type).Append('=').Append(Convert.ToHexString(header.Value)).Append(';');
        string Known(string name)
        {
            foreach (var header in headers) if (header.Name == name && header.Type == EventStreamHeaderType.String) return Encoding.UTF8.GetString(header.Value);
            return "";
        }
        text.Append(" event-type=").Append(Known(":event-type"))
            .Append(" message-type=").Append(Known(":message-type"))
            .Append(" exception-type=").Append(Known(":exception-type"))
            .Append(" content-type=").Append(Known(":content-type"))
            .Append(" payload=").Append(Convert.ToHexString(payload));
        return text.ToString();
    }

    private static List<string> Run(IEnumerable<ReadOnlyMemory<byte>> chunks, Layout layout = Layout.Segments, int maxMessageLength = EventStreamDecoder.DefaultMaxMessageLength)
    {
        var decoder = new EventStreamDecoder(maxMessageLength);
        return PipeLoop.Run<string>(chunks, (ref ReadOnlySequence<byte> buffer, bool isFinal, out string item) =>
        {
            if (decoder.TryRead(ref buffer, isFinal, out var message))
            {
                item = Describe(message);
                return true;
            }
            item = null!;
            return false;
        }, layout);
    }

    private static readonly (TestHeader[] Headers, byte[] Payload)[] Messages =
    [
        ([TestHeader.String(":event-type", "messageStart"), TestHeader.String(":content-type", "application/json"), TestHeader.String(":message-type", "event")],
            """{"p":"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456","role":"assistant"}"""u8.ToArray()),
        ([TestHeader.String(":event-type", "contentBlockDelta"), TestHeader.String(":content-type", "application/json"), TestHeader.String(":message-type", "event")],
            """{"contentBlockIndex":0,"delta":{"text":"Hello"},"p":"abcd"}"""u8.ToArray()),
        ([], []),
        ([TestHeader.Bool("t", true), TestHeader.Bool("f", false), TestHeader.Byte("b", -5), TestHeader.Short("s", -1234), TestHeader.Int("i", 123456789),
          TestHeader.Long("l", -9_876_543_210L), TestHeader.Bytes("bytes", [0, 1, 2, 255]), TestHeader.String("str", "héllo"),
          TestHeader.Timestamp("ts", 1_700_000_000_123), TestHeader.Uuid("id", Guid.Parse("01234567-89ab-cdef-0123-456789abcdef"))],
            [1, 2, 3]),
        ([TestHeader.String(":exception-type", "throttlingException"), TestHeader.String(":content-type", "application/json"), TestHeader.String(":message-type", "exception")],
            """{"message":"Too many requests, please wait before trying again."}"""u8.ToArray()),
    ];

    private static byte[] Stream(params (TestHeader[] Headers, byte[] Payload)[] messages)
    {
        var stream = new MemoryStream();
        foreach (var (headers, payload) in messages) stream.Write(EventStreamEncoder.Encode(headers, payload));
        return stream.ToArray();
    }

    [Fact]
    public void EventStream_messages_decode_at_every_split()
    {
        var input = Stream(Messages);
        var expected = Messages.Select(m => Describe(m.Headers, m.Payload)).ToList();
        foreach (var (name, chunks) in PipeLoop.Splits(input))
        {
            foreach (var layout in Enum.GetValues<Layout>())
                Assert.True(expected.SequenceEqual(Run(chunks, layout)), $"{name}, {layout}");
        }
    }

    [Fact]
    public void EventStream_uuid_header_reads_in_network_byte_order()
    {
        // RFC 4122 order, as the Java SDK and the C runtime read it (the .NET SDK's Guid differs; see the oracle tests).
        var bytes = EventStreamEncoder.Encode([new TestHeader("id", EventStreamHeaderType.Uuid, Convert.FromHexString("00112233445566778899AABBCCDDEEFF"))], []);
        var buffer = new ReadOnlySequence<byte>(bytes);
        Assert.True(new EventStreamDecoder().TryRead(ref buffer, true, out var message));
        var header = message.EnumerateHeaders();
        Assert.True(header.MoveNext());
        Assert.Equal(Guid.Parse("00112233-4455-6677-8899-aabbccddeeff"), header.Current.AsGuid());
    }

    [Fact]
    public void EventStream_typed_header_accessors_read_every_value_type()
    {
        var buffer = new ReadOnlySequence<byte>(Stream(Messages[3]));
        Assert.True(new EventStreamDecoder().TryRead(ref buffer, true, out var message));
        var values = new List<string>();
        foreach (var header in message.EnumerateHeaders())
        {
            values.Add(header.Type switch
            {
                EventStreamHeaderType.BoolTrue or EventStreamHeaderType.BoolFalse => header.AsBoolean().ToString(),
                EventStreamHeaderType.ByteArray => Convert.ToHexString(header.Value.ToArray()),
                EventStreamHeaderType.String => Encoding.UTF8.GetString(header.Value),
                EventStreamHeaderType.Timestamp => header.AsTimestamp().ToUnixTimeMilliseconds().ToString(),
                EventStreamHeaderType.Uuid => header.AsGuid().ToString(),
                _ => header.AsInt64().ToString(),
            });
        }
        Assert.Equal(["True", "False", "-5", "-1234", "123456789", "-9876543210", "000102FF", "héllo", "1700000000123", "01234567-89ab-cdef-0123-456789abcdef"], values);
    }

    [Fact]
    public void EventStream_known_headers_are_slices_and_helpers_match()
    {
        var bytes = EventStreamEncoder.BedrockEvent("contentBlockDelta", "{\"delta\":{\"text\":\"Hi\"}}");
        var buffer = new ReadOnlySequence<byte>(bytes);
        Assert.True(new EventStreamDecoder().TryRead(ref buffer, false, out var message));
        Assert.True(buffer.IsEmpty);
        Assert.True(message.EventTypeIs("contentBlockDelta"u8));
        Assert.False(message.EventTypeIs("contentBlockStop"u8));
        Assert.True(message.ContentTypeIs("application/json"u8));
        Assert.True(message.IsEvent);
        Assert.False(message.IsException);
        Assert.False(message.ExceptionTypeIs(""u8));
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(message.Payload.First, out var payload));
        Assert.Same(bytes, payload.Array);
        Assert.Equal("{\"delta\":{\"text\":\"Hi\"}}", Encoding.UTF8.GetString(message.Payload));

        var exception = new ReadOnlySequence<byte>(EventStreamEncoder.BedrockException("throttlingException", "slow down"));
        Assert.True(new EventStreamDecoder().TryRead(ref exception, false, out var thrown));
        Assert.True(thrown.IsException);
        Assert.True(thrown.ExceptionTypeIs("throttlingException"u8));
    }

    // ---- The AWS SDK for .NET as oracle ----

    /// <summary>A header set rendered by typed value, sorted by name (the SDK keeps headers in a dictionary).</summary>
    private static string DescribeTyped(SortedDictionary<string, string> headers, byte[] payload) =>
        string.Join(";", headers.Select(h => $"{h.Key}={h.Value}")) + " payload=" + Convert.ToHexString(payload);

    private static string DescribeWithSdk(byte[] bytes)
    {
        var message = Aws.EventStreamMessage.FromBuffer(bytes, 0, bytes.Length);
        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, header) in message.Headers)
        {
            headers[name] = header.HeaderType switch
            {
                Aws.EventStreamHeaderType.BoolTrue or Aws.EventStreamHeaderType.BoolFalse => header.AsBool().ToString(),
                Aws.EventStreamHeaderType.SByte => header.AsSByte().ToString(),
                Aws.EventStreamHeaderType.Int16 => header.AsInt16().ToString(),
                Aws.EventStreamHeaderType.Int32 => header.AsInt32().ToString(),
                Aws.EventStreamHeaderType.Int64 => header.AsInt64().ToString(),
                Aws.EventStreamHeaderType.ByteBuf => Convert.ToHexString(header.AsByteBuf()),
                Aws.EventStreamHeaderType.String => header.AsString(),
                Aws.EventStreamHeaderType.Timestamp => new DateTimeOffset(DateTime.SpecifyKind(header.AsTimestamp().ToUniversalTime(), DateTimeKind.Utc)).ToUnixTimeMilliseconds().ToString(),
                // The .NET SDK maps the 16 wire bytes with new Guid(byte[]) (mixed-endian); compare the wire bytes.
                Aws.EventStreamHeaderType.UUID => Convert.ToHexString(header.AsUUID().ToByteArray()),
                _ => "?",
            };
        }
        return DescribeTyped(headers, message.Payload);
    }

    private static string DescribeWithOurs(byte[] bytes)
    {
        var buffer = new ReadOnlySequence<byte>(bytes);
        Assert.True(new EventStreamDecoder().TryRead(ref buffer, true, out var message));
        Assert.True(buffer.IsEmpty);
        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var header in message.EnumerateHeaders())
        {
            headers[Encoding.UTF8.GetString(header.Name)] = header.Type switch
            {
                EventStreamHeaderType.BoolTrue or EventStreamHeaderType.BoolFalse => header.AsBoolean().ToString(),
                EventStreamHeaderType.ByteArray => Convert.ToHexString(header.Value.ToArray()),
                EventStreamHeaderType.String => Encoding.UTF8.GetString(header.Value),
                EventStreamHeaderType.Timestamp => header.AsTimestamp().ToUnixTimeMilliseconds().ToString(),
                EventStreamHeaderType.Uuid => Convert.ToHexString(header.Value.ToArray()),
                _ => header.AsInt64().ToString(),
            };
        }
        return DescribeTyped(headers, message.Payload.ToArray());
    }

    [Fact]
    public void EventStream_agrees_with_the_AWS_SDK_on_messages_from_our_encoder()
    {
        foreach (var (headers, payload) in Messages)
        {
            var bytes = EventStreamEncoder.Encode(headers, payload);
            Assert.Equal(DescribeWithSdk(bytes), DescribeWithOurs(bytes));
        }
    }

    [Fact]
    public void EventStream_decodes_messages_written_by_the_AWS_SDK()
    {
        var headers = new List<Aws.IEventStreamHeader>();
        var eventType = new Aws.EventStreamHeader(":event-type"); eventType.SetString("contentBlockDelta"); headers.Add(eventType);
        var messageType = new Aws.EventStreamHeader(":message-type"); messageType.SetString("event"); headers.Add(messageType);
        var flag = new Aws.EventStreamHeader("flag"); flag.SetBool(true); headers.Add(flag);
        var count = new Aws.EventStreamHeader("count"); count.SetInt32(-42); headers.Add(count);
        var big = new Aws.EventStreamHeader("big"); big.SetInt64(long.MinValue); headers.Add(big);
        var raw = new Aws.EventStreamHeader("raw"); raw.SetByteBuf([9, 8, 7]); headers.Add(raw);
        var when = new Aws.EventStreamHeader("when"); when.SetTimestamp(new DateTime(2025, 1, 2, 3, 4, 5, 678, DateTimeKind.Utc)); headers.Add(when);
        var id = new Aws.EventStreamHeader("id"); id.SetUUID(Guid.Parse("00112233-4455-6677-8899-aabbccddeeff")); headers.Add(id);
        var bytes = new Aws.EventStreamMessage(headers, "{\"delta\":{\"text\":\"x\"}}"u8.ToArray()).ToByteArray();

        Assert.Equal(DescribeWithSdk(bytes), DescribeWithOurs(bytes));
        var buffer = new ReadOnlySequence<byte>(bytes);
        Assert.True(new EventStreamDecoder().TryRead(ref buffer, true, out var message));
        Assert.True(message.EventTypeIs("contentBlockDelta"u8));
        Assert.True(message.IsEvent);
    }

    private static readonly Gen<(TestHeader[] Headers, byte[] Payload)> RandomMessage =
        Gen.Select(
            Gen.Select(Gen.Int[0, 9], Gen.Int[1, 12], Gen.Byte.Array[0, 20], Gen.Long, (type, nameLength, bytes, number) =>
            {
                var name = "h" + new string('x', nameLength - 1);
                return (EventStreamHeaderType)type switch
                {
                    EventStreamHeaderType.BoolTrue => TestHeader.Bool(name, true),
                    EventStreamHeaderType.BoolFalse => TestHeader.Bool(name, false),
                    EventStreamHeaderType.Byte => TestHeader.Byte(name, (sbyte)number),
                    EventStreamHeaderType.Short => TestHeader.Short(name, (short)number),
                    EventStreamHeaderType.Int => TestHeader.Int(name, (int)number),
                    EventStreamHeaderType.Long => TestHeader.Long(name, number),
                    EventStreamHeaderType.ByteArray => TestHeader.Bytes(name, bytes),
                    EventStreamHeaderType.String => TestHeader.String(name, Convert.ToBase64String(bytes)),
                    EventStreamHeaderType.Timestamp => TestHeader.Timestamp(name, (long)((ulong)number % 253_402_300_799_000UL)),
                    _ => TestHeader.Uuid(name, new Guid(bytes.Concat(new byte[16]).Take(16).ToArray())),
                };
            }).Array[0, 6],
            Gen.Byte.Array[0, 300]);

    [Fact]
    public void EventStream_random_messages_agree_with_the_AWS_SDK_and_survive_random_splits()
    {
        Gen.Select(RandomMessage.Array[1, 4], Gen.Int[1, 64].Array[1, 10]).Sample((messages, cuts) =>
        {
            // Unique names: the SDK keeps headers in a dictionary.
            for (var m = 0; m < messages.Length; m++)
            {
                var unique = messages[m].Headers.Select((h, i) => h with { Name = h.Name + i }).ToArray();
                messages[m] = (unique, messages[m].Payload);
                var bytes = EventStreamEncoder.Encode(unique, messages[m].Payload);
                Assert.Equal(DescribeWithSdk(bytes), DescribeWithOurs(bytes));
            }
            var input = Stream(messages);
            var expected = messages.Select(m => Describe(m.Headers, m.Payload)).ToList();
            Assert.Equal(expected, Run(PipeLoop.Cut(input, cuts)));
            Assert.Equal(expected, Run(PipeLoop.Cut(input, cuts), Layout.Contiguous));
        }, iter: 500);
    }

    // ---- Corrupt, impossible and truncated input ----

    private static InvalidDataException RejectedAtEverySplit(byte[] input, string messagePart)
    {
        InvalidDataException? last = null;
        foreach (var (name, chunks) in PipeLoop.Splits(input))
        {
            last = Assert.Throws<InvalidDataException>(() => Run(chunks));
            Assert.True(last.Message.Contains(messagePart, StringComparison.Ordinal), $"{name}: {last.Message}");
        }
        return last!;
    }

    [Fact]
    public void EventStream_bad_prelude_crc_is_rejected()
    {
        var input = Stream(Messages[1]);
        input[9] ^= 0x01;
        RejectedAtEverySplit(input, "prelude CRC mismatch");
    }

    [Fact]
    public void EventStream_bad_message_crc_is_rejected()
    {
        var input = Stream(Messages[0], Messages[1]);
        input[^5] ^= 0x80; // a payload byte of the second message
        RejectedAtEverySplit(input, "message CRC mismatch");
    }

    [Fact]
    public void EventStream_impossible_lengths_are_rejected_from_the_prelude_alone()
    {
        // Each is rejected from its 12-byte prelude, before (and without) waiting for the rest.
        foreach (var (prelude, part) in new[]
        {
            (EventStreamEncoder.Prelude(15, 0), "shorter than the 16-byte minimum"),
            (EventStreamEncoder.Prelude(0, 0), "shorter than the 16-byte minimum"),
            (EventStreamEncoder.Prelude(100, 85), "does not fit"),
            (EventStreamEncoder.Prelude(16 * 1024 * 1024 + 1, 0), "exceeds the 16777216-byte limit"),
            (EventStreamEncoder.Prelude(uint.MaxValue, 4), "exceeds"),
        })
        {
            var buffer = new ReadOnlySequence<byte>(prelude);
            var error = Assert.Throws<InvalidDataException>(() => new EventStreamDecoder().TryRead(ref buffer, isFinalBlock: false, out _));
            Assert.Contains(part, error.Message);
        }
    }

    [Fact]
    public void EventStream_configured_max_length_bounds_a_message()
    {
        var input = EventStreamEncoder.Encode([], new byte[1000]);
        foreach (var (name, chunks) in PipeLoop.Splits(input))
        {
            var error = Assert.Throws<InvalidDataException>(() => Run(chunks, maxMessageLength: 512));
            Assert.True(error.Message.Contains("exceeds the 512-byte limit", StringComparison.Ordinal), name);
        }
        Assert.Single(Run([input], maxMessageLength: 1016));
    }

    [Fact]
    public void EventStream_stream_cut_mid_message_is_rejected_at_the_end()
    {
        var input = Stream(Messages[0], Messages[1]);
        var first = EventStreamEncoder.Encode(Messages[0].Headers, Messages[0].Payload).Length;
        for (var cut = 1; cut < input.Length; cut++)
        {
            var truncated = input[..cut];
            if (cut == first)
            {
                Assert.Single(Run([truncated]));
                continue;
            }
            var error = Assert.Throws<InvalidDataException>(() => Run([truncated]));
            Assert.Contains("eventstream ended inside a message", error.Message);
        }
    }

    [Fact]
    public void EventStream_malformed_headers_are_rejected()
    {
        RejectedAtEverySplit(EventStreamEncoder.EncodeRaw([1, (byte)'x', 10, 0, 0, 0, 0, 0, 0, 0, 0], []), "unknown value type 10");
        RejectedAtEverySplit(EventStreamEncoder.EncodeRaw([0, 7, 0, 0], []), "empty name");
        RejectedAtEverySplit(EventStreamEncoder.EncodeRaw([1, (byte)'x', 7, 0, 9, (byte)'a'], [1, 2, 3]), "runs past the end");
        RejectedAtEverySplit(EventStreamEncoder.EncodeRaw([1, (byte)'x', 4, 0, 0], []), "runs past the end");
        RejectedAtEverySplit(EventStreamEncoder.EncodeRaw([5, (byte)'x'], []), "runs past the end");
    }

    [Fact]
    public void EventStream_any_single_bit_flip_is_rejected()
    {
        var input = Stream(Messages[1], Messages[3]);
        for (var bit = 0; bit < input.Length * 8; bit++)
        {
            var corrupt = (byte[])input.Clone();
            corrupt[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.Throws<InvalidDataException>(() => Run([corrupt]));
        }
    }

    [Fact]
    public void EventStream_random_garbage_ends_in_InvalidDataException_quickly()
    {
        Gen.Select(Gen.Byte.Array[1, 400], Gen.Int[1, 64].Array[1, 8]).Sample((garbage, cuts) =>
        {
            // Random bytes fail the prelude CRC (or are too short), so no garbage length is ever waited for.
            Assert.Throws<InvalidDataException>(() => Run(PipeLoop.Cut(garbage, cuts)));
            if (garbage.Length >= 12)
            {
                var buffer = new ReadOnlySequence<byte>(garbage);
                Assert.Throws<InvalidDataException>(() => new EventStreamDecoder().TryRead(ref buffer, isFinalBlock: false, out _));
            }
        }, iter: 3000);
    }

    [Fact]
    public void EventStream_random_mutations_of_valid_streams_end_in_InvalidDataException_or_valid_messages()
    {
        Gen.Select(RandomMessage.Array[1, 3], Gen.Int[0, 10_000].Array[1, 4], Gen.Byte).Sample((messages, positions, value) =>
        {
            var input = Stream(messages);
            foreach (var position in positions) input[position % input.Length] = value;
            try { Run([input]); }
            catch (InvalidDataException) { }
        }, iter: 2000);
    }
}
