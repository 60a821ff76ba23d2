namespace LLMux.Stages.Responses;

/// <summary>Bounds of the in-memory response store: the oldest responses go first once either limit is reached.</summary>
public sealed record ResponseStoreOptions
{
    /// <summary>Most responses kept.</summary>
    public int MaxResponses { get; init; } = 10_000;
    /// <summary>Most bytes kept (response, input and output items together).</summary>
    public long MaxBytes { get; init; } = 256L * 1024 * 1024;
    /// <summary>How long a response stays retrievable.</summary>
    public TimeSpan TimeToLive { get; init; } = TimeSpan.FromHours(24);
}
