using System.Collections.Concurrent;
using System.Text.Json;

namespace LLMux.Host.Batch;

/// <summary>
/// One gate per requested model, sized by its deployments' <c>max_parallel_requests</c>, so that a batch never
/// sends a group more calls than it admits (the router would answer those with 429 at once).
/// </summary>
internal sealed class ModelLimits(Func<string, int?>? limitFor)
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim?> _gates = new(StringComparer.Ordinal);

    public SemaphoreSlim? For(ReadOnlySpan<byte> body)
    {
        if (limitFor is null || Model(body) is not { } model) return null;
        return _gates.GetOrAdd(model, static (m, f) => f(m) is { } n and > 0 ? new SemaphoreSlim(n, n) : null, limitFor);
    }

    /// <summary>The top-level <c>model</c> of a request body, read without building a document.</summary>
    private static string? Model(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isModel = reader.ValueTextEquals("model"u8);
                reader.Read();
                if (isModel) return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                reader.Skip();
            }
        }
        catch (JsonException)
        {
            // The pipeline's validation answers a malformed body with a clear error.
        }
        return null;
    }
}
