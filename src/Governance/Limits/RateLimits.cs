namespace LLMux.Governance.Limits;

/// <summary>rpm/tpm/max_parallel_requests of one descriptor; null is no limit.</summary>
public readonly record struct RateLimits(long? Rpm, long? Tpm, long? MaxParallel)
{
    public bool Any => Rpm is not null || Tpm is not null || MaxParallel is not null;
}
