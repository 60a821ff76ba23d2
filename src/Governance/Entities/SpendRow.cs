namespace LLMux.Governance.Entities;

/// <summary>One finished call (LiteLLM's <c>LiteLLM_SpendLogs</c> row); also carries the spend added to key, team and user.</summary>
public sealed record SpendRow
{
    public required string RequestId { get; init; }
    public required string CallType { get; init; }
    /// <summary>The key's hash (never the raw key); empty for the master key.</summary>
    public required string ApiKey { get; init; }
    public decimal Spend { get; init; }
    public long PromptTokens { get; init; }
    public long CompletionTokens { get; init; }
    public long TotalTokens => PromptTokens + CompletionTokens;
    public DateTimeOffset StartTime { get; init; }
    public DateTimeOffset EndTime { get; init; }
    public string? Model { get; init; }
    public string? ModelGroup { get; init; }
    public string? Provider { get; init; }
    public string? TeamId { get; init; }
    public string? UserId { get; init; }
    public string? EndUser { get; init; }
    public string? KeyAlias { get; init; }
    /// <summary><c>success</c> or <c>failure</c>.</summary>
    public string Status { get; init; } = "success";
    /// <summary>Answered from the response cache (spend 0); stored as LiteLLM's <c>'True'</c>/<c>'False'</c> text.</summary>
    public bool CacheHit { get; init; }
    /// <summary>
    /// False under <c>general_settings.disable_spend_logs</c>: the spend is still added to key, team, user and customer,
    /// but no log row is written (so the row cannot be recognised if its batch is written twice).
    /// </summary>
    public bool Logged { get; init; } = true;
}
