using System.Buffers;
using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Streaming;
using LLMux.Pipeline.Streaming.Decoders;
using LLMux.Providers.OpenAI;

namespace LLMux.Providers.SageMaker;

/// <summary>
/// InvokeEndpointWithResponseStream: AWS eventstream whose <c>PayloadPart</c> events carry raw bytes of the
/// container's answer — for a Messages API container, OpenAI SSE (<c>data: {chunk}\n\n</c>) cut at arbitrary points,
/// a frame may span several parts and a part may end inside a UTF-8 sequence. The parts are joined in one pooled
/// buffer and handed to the OpenAI passthrough, which writes each whole frame to the client as it completes.
/// <c>ModelStreamError</c> and <c>InternalStreamFailure</c> exceptions end the stream as errors.
/// </summary>
internal sealed class SageMakerStreamTranslator(LlmContext context) : EventStreamTranslator
{
    private readonly OpenAIStreamPassthrough _sse = new(context, SageMakerSpec.Name);
    private byte[] _pending = ArrayPool<byte>.Shared.Rent(4096);
    private int _length;

    protected override void OnMessage(in EventStreamMessage msg, IBufferWriter<byte> output)
    {
        if (msg.IsException || msg.IsError) ThrowUpstreamError(in msg);
        if (!msg.EventTypeIs("PayloadPart"u8)) return;
        Append(msg.Payload);
        var buffer = new ReadOnlySequence<byte>(_pending, 0, _length);
        _sse.Decode(ref buffer, output);
        ContentStarted = _sse.ContentStarted;
        // What the SSE decoder left (a frame still incomplete) moves to the front for the next part.
        var left = (int)buffer.Length;
        if (left < _length)
        {
            Buffer.BlockCopy(_pending, _length - left, _pending, 0, left);
            _length = left;
        }
    }

    protected override void OnEnd(IBufferWriter<byte> output)
    {
        try
        {
            _sse.Complete(new ReadOnlySequence<byte>(_pending, 0, _length), output);
        }
        catch (JsonException ex)
        {
            // The last PayloadPart ended inside a frame: the container's answer was cut off.
            throw new Pipeline.Errors.LlmError
            {
                Kind = Pipeline.Errors.ErrorKind.BadGateway,
                Provider = SageMakerSpec.Name,
                Message = $"{SageMakerSpec.Name} stream ended inside a frame of the container's answer; the answer is incomplete",
            }.ToException(ex);
        }
        _length = 0;
        ContentStarted = _sse.ContentStarted;
    }

    private void Append(ReadOnlySequence<byte> payload)
    {
        var need = _length + (int)payload.Length;
        if (need > _pending.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(need, _pending.Length * 2));
            Buffer.BlockCopy(_pending, 0, bigger, 0, _length);
            ArrayPool<byte>.Shared.Return(_pending);
            _pending = bigger;
        }
        payload.CopyTo(_pending.AsSpan(_length));
        _length = need;
    }

    private static void ThrowUpstreamError(in EventStreamMessage msg)
    {
        var type = msg.IsException ? Encoding.UTF8.GetString(msg.ExceptionType) : Encoding.UTF8.GetString(msg.ErrorCode);
        if (type.Length == 0) type = "ModelStreamError";
        var payload = msg.Payload.ToArray();
        if (msg.IsError && payload.Length == 0) payload = Encoding.UTF8.GetBytes("{\"message\":\"" + JsonEncodedText.Encode(Encoding.UTF8.GetString(msg.ErrorMessage)) + "\"}");
        throw SageMakerErrorMapper.FromStreamException(type, payload).ToException();
    }

    public override void Dispose()
    {
        _sse.Dispose();
        var buffer = _pending;
        _pending = [];
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
        base.Dispose();
    }
}
