namespace LLMux.Stages.Caching;

/// <summary>What the <c>/cache/*</c> admin routes ask of a store (LiteLLM's ping, delete and flushall).</summary>
public interface ICacheAdmin
{
    /// <summary><c>local</c> or <c>redis</c>.</summary>
    string CacheType { get; }

    /// <summary>Whether the store answers now; throws what the store threw when it cannot.</summary>
    ValueTask PingAsync(CancellationToken cancellationToken);

    /// <summary>Removes these keys (as <c>x-litellm-cache-key</c> shows them); returns how many existed.</summary>
    ValueTask<long> DeleteAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken);

    /// <summary>Removes every entry of this cache (and nothing else the store holds, where it can tell).</summary>
    ValueTask FlushAsync(CancellationToken cancellationToken);
}
