using System.Buffers;
using System.IO.Pipelines;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;

namespace LLMux.Host.Endpoints;

/// <summary>Reads the whole request body into a pooled buffer, refusing bodies over the configured limit with 413.</summary>
internal static class RequestBodyReader
{
    public static async ValueTask<PooledBuffer> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength is { } declared && declared > limit) throw TooLarge(limit);
        var buffer = new PooledBuffer(request.ContentLength is > 0 and < 1 << 20 ? (int)request.ContentLength.Value : 8192);
        var reader = request.BodyReader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                var seq = result.Buffer;
                if (buffer.Length + seq.Length > limit)
                {
                    reader.AdvanceTo(seq.End);
                    throw TooLarge(limit);
                }
                foreach (var segment in seq) buffer.Write(segment.Span);
                reader.AdvanceTo(seq.End);
                if (result.IsCompleted) break;
            }
            return buffer;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    private static LlmException TooLarge(long limit) => new LlmError
    {
        Kind = ErrorKind.PayloadTooLarge,
        Message = $"request body is larger than {limit / (1024.0 * 1024):0.#} MiB; send less, or raise general_settings.max_request_size_mb",
        Code = "request_too_large",
    }.ToException();
}
