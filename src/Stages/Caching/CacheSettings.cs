using LLMux.Pipeline.Capabilities;

namespace LLMux.Stages.Caching;

/// <summary>
/// The response cache as LiteLLM configures it: <c>litellm_settings.cache: true</c> and <c>cache_params</c>
/// (<c>type</c> local | redis, <c>ttl</c>, <c>namespace</c>, <c>supported_call_types</c>, <c>max_size_in_memory</c>,
/// redis <c>host</c>/<c>port</c>/<c>password</c> or <c>REDIS_URL</c>) plus LLMux's <c>max_size_mb</c> (the local cache's
/// byte bound) and <c>shared_model_groups</c> (model groups whose entries every tenant shares; none by default).
/// </summary>
public sealed record CacheSettings
{
    public bool Enabled { get; init; }
    /// <summary><c>local</c> (in-process LRU) or <c>redis</c>.</summary>
    public string Type { get; init; } = "local";
    /// <summary>How long an entry lives when the request sets no <c>cache.ttl</c> (LiteLLM's local default: 600 s).</summary>
    public TimeSpan Ttl { get; init; } = TimeSpan.FromSeconds(600);
    /// <summary>Prefix of every key (<c>cache_params.namespace</c>); a request's <c>cache.namespace</c> adds to it.</summary>
    public string? Namespace { get; init; }
    /// <summary>The modes answered from the cache (from <c>supported_call_types</c>): chat (and the /v1/messages, /v1/responses and
    /// /v1/completions bridges, which are chat calls), text completions, embeddings, responses, rerank.</summary>
    public IReadOnlySet<LlmMode> Modes { get; init; } = DefaultModes;
    /// <summary>Most entries the local cache keeps (<c>max_size_in_memory</c>; LiteLLM's default 200).</summary>
    public int MaxEntries { get; init; } = 200;
    /// <summary>Most bytes the local cache keeps (<c>max_size_mb</c>).</summary>
    public long MaxBytes { get; init; } = 64L * 1024 * 1024;
    /// <summary>Model groups an admin opted into sharing across tenants (<c>shared_model_groups</c>).</summary>
    public IReadOnlySet<string> SharedModelGroups { get; init; } = new HashSet<string>();
    /// <summary>Redis connection: <c>redis_url</c> / <c>REDIS_URL</c>, or host, port and password.</summary>
    public string? RedisUrl { get; init; }
    public string? RedisHost { get; init; }
    public int? RedisPort { get; init; }
    public string? RedisPassword { get; init; }

    public static readonly IReadOnlySet<LlmMode> DefaultModes = new HashSet<LlmMode> { LlmMode.Chat, LlmMode.Completion, LlmMode.Embeddings, LlmMode.Responses, LlmMode.Rerank };

    /// <summary>LiteLLM's <c>supported_call_types</c> names → modes (unknown names are reported by the config reader).</summary>
    public static LlmMode? ModeOf(string callType) => callType switch
    {
        "completion" or "acompletion" or "anthropic_messages" => LlmMode.Chat,
        "text_completion" or "atext_completion" => LlmMode.Completion,
        "embedding" or "aembedding" => LlmMode.Embeddings,
        "responses" or "aresponses" => LlmMode.Responses,
        "rerank" or "arerank" => LlmMode.Rerank,
        "transcription" or "atranscription" => LlmMode.AudioTranscription,
        _ => null,
    };
}
