using System.Buffers;
using System.Text.Json;
using LLMux.Pipeline.Streaming;

namespace LLMux.Stages.Responses;

/// <summary>
/// Learns the id a native provider gave its response (so that GET, DELETE, cancel and input_items of it can be sent
/// to the deployment that made it): a stream's first <c>data:</c> frame (<c>response.created</c>) is read for
/// <c>response.id</c> before the passthrough forwards it; after that the decorator only hands the bytes on.
/// A JSON answer is read with <see cref="FromBody"/>.
/// </summary>
public sealed class NativeResponseIdReader(StreamTranslator inner) : StreamTranslator
{
    private bool _done;

    /// <summary>The provider's response id, once seen.</summary>
    public string? Id { get; private set; }

    public override void Decode(ref ReadOnlySequence<byte> buffer, IBufferWriter<byte> output)
    {
        if (!_done) Peek(buffer);
        inner.Decode(ref buffer, output);
        if (inner.ContentStarted) ContentStarted = true;
    }

    public override void Complete(ReadOnlySequence<byte> remaining, IBufferWriter<byte> output)
    {
        inner.Complete(remaining, output);
        if (inner.ContentStarted) ContentStarted = true;
    }

    public override void Dispose()
    {
        inner.Dispose();
        base.Dispose();
    }

    /// <summary>Reads the first complete <c>data:</c> line, if the buffer holds it yet.</summary>
    private void Peek(ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryAdvanceTo((byte)'{', advancePastDelimiter: false)) return;
        if (!reader.TryReadTo(out ReadOnlySequence<byte> json, (byte)'\n', advancePastDelimiter: false)) return;
        _done = true; // one look: the first event names the response
        try
        {
            var r = new Utf8JsonReader(json);
            if (!r.Read() || r.TokenType != JsonTokenType.StartObject) return;
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                if (r.ValueTextEquals("response"u8))
                {
                    r.Read();
                    if (r.TokenType == JsonTokenType.StartObject) Id = TopLevel(ref r, "id"u8);
                    return;
                }
                r.Read();
                r.Skip();
            }
        }
        catch (JsonException)
        {
            // Not an OpenAI frame: the passthrough reports it; nothing is recorded.
        }
    }

    /// <summary>The top-level <c>id</c> of a JSON Response object.</summary>
    public static string? FromBody(ReadOnlySpan<byte> body) => TopLevelString(body, "id"u8);

    /// <summary>A top-level string field of a JSON object (a Response's <c>id</c> or <c>status</c>).</summary>
    public static string? TopLevelString(ReadOnlySpan<byte> body, ReadOnlySpan<byte> name)
    {
        try
        {
            var r = new Utf8JsonReader(body);
            return r.Read() && r.TokenType == JsonTokenType.StartObject ? TopLevel(ref r, name) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? TopLevel(ref Utf8JsonReader r, ReadOnlySpan<byte> name)
    {
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var isId = r.ValueTextEquals(name);
            r.Read();
            if (isId) return r.TokenType == JsonTokenType.String ? r.GetString() : null;
            r.Skip();
        }
        return null;
    }
}
