using LLMux.Pipeline.Context;

namespace LLMux.Host.Caching;

/// <summary>
/// The cache headers of a <c>/v1/completions</c> request answered by one upstream call per prompt (the chat bridge, FIM):
/// each prompt is its own cache entry, so the answer says every prompt's key (in prompt order, comma-separated, as
/// <c>/cache/delete</c> takes them), <c>hit</c> only when every prompt was one (<c>bypass</c> when every lookup was
/// skipped, else <c>miss</c>), and <c>x-llmux-cache-items: hits/prompts</c> as embeddings do.
/// </summary>
internal static class CompletionCacheHeaders
{
    private const string KeyHeader = "x-litellm-cache-key";
    private const string ResultHeader = "x-llmux-cache";

    /// <summary>Puts the combined headers on <paramref name="contexts"/>[0], whose headers the answer carries.</summary>
    public static void Combine(IReadOnlyList<LlmContext> contexts)
    {
        if (contexts.Count < 2) return;
        var keys = new List<string>(contexts.Count);
        int hits = 0, bypasses = 0;
        foreach (var c in contexts)
        {
            string? key = null, result = null;
            foreach (var (name, value) in c.ResponseHeaders)
            {
                if (name == KeyHeader) key = value;
                else if (name == ResultHeader) result = value;
            }
            if (key is null || result is null) return; // a prompt the cache did not see (its mode is not cached): nothing to combine
            keys.Add(key);
            if (result == "hit") hits++;
            else if (result == "bypass") bypasses++;
        }
        var headers = contexts[0].ResponseHeaders;
        headers.RemoveAll(static h => h.Key is KeyHeader or ResultHeader);
        headers.Add(new(KeyHeader, string.Join(", ", keys)));
        headers.Add(new(ResultHeader, hits == contexts.Count ? "hit" : bypasses == contexts.Count ? "bypass" : "miss"));
        headers.Add(new("x-llmux-cache-items", $"{hits}/{contexts.Count}"));
    }
}
