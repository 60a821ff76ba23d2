using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;

namespace LLMux.Providers.Common;

/// <summary>Reads an upstream answer body into a pooled buffer, with a size bound.</summary>
public static class ResponseBodyReader
{
    public const int DefaultLimit = 64 * 1024 * 1024;

    public static async ValueTask<PooledBuffer> ReadAsync(HttpResponseMessage response, string? provider, CancellationToken cancellationToken, int limit = DefaultLimit)
    {
        var length = response.Content.Headers.ContentLength;
        var buffer = new PooledBuffer(length is > 0 and < DefaultLimit ? (int)length.Value : 16 * 1024);
        try
        {
            // The socket handler's content (and the in-box contents) hand their stream over synchronously; the async form
            // only adds a Task per answer. Other contents keep the async path.
            var stream = response.Content.GetType().Assembly == typeof(HttpContent).Assembly
                ? response.Content.ReadAsStream(cancellationToken)
                : await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            while (true)
            {
                var n = await stream.ReadAsync(buffer.GetMemory(8192), cancellationToken).ConfigureAwait(false);
                if (n == 0) break;
                buffer.Advance(n);
                if (buffer.Length > limit)
                {
                    throw new LlmError { Kind = ErrorKind.BadGateway, Provider = provider, Message = $"upstream answer is larger than {limit / (1024 * 1024)} MiB" }.ToException();
                }
            }
            return buffer;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }
}
