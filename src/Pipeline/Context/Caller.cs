namespace LLMux.Pipeline.Context;

/// <summary>
/// Who is calling, once the gateway has authenticated the request: the virtual key (by its hash, never the raw
/// key), its team and user, or the master key. Stores that keep state per caller (responses, spend) scope by
/// <see cref="OwnerScope"/>.
/// </summary>
public sealed record Caller
{
    /// <summary>SHA-256 hex of the presented key; empty when no key was needed (no master key configured).</summary>
    public required string KeyHash { get; init; }
    public string? KeyAlias { get; init; }
    public string? TeamId { get; init; }
    public string? UserId { get; init; }
    /// <summary>The master key (LiteLLM's <c>proxy_admin</c>): every model, no limits, admin routes.</summary>
    public bool IsAdmin { get; init; }
    /// <summary>The response-cache controls the key may set (LiteLLM's <c>allowed_cache_controls</c>); empty allows every one.</summary>
    public IReadOnlyList<string> AllowedCacheControls { get; init; } = [];
    /// <summary>
    /// The key's <c>aliases</c> over its team's <c>model_aliases</c> (model name the caller sends → the model it means);
    /// null when there are none.
    /// </summary>
    public IReadOnlyDictionary<string, string>? ModelAliases { get; init; }

    /// <summary>A stable owner id for stored objects: the key's hash (<c>key:&lt;hash&gt;</c>), or <c>admin</c>/<c>anonymous</c>.</summary>
    public string OwnerScope => KeyHash.Length > 0 && !IsAdmin ? "key:" + KeyHash : IsAdmin ? "admin" : "anonymous";

    public static readonly Caller Anonymous = new() { KeyHash = "" };
}
