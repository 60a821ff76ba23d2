using System.Text.Json;

namespace LLMux.Tests.Caching;

/// <summary>
/// A key's <c>allowed_cache_controls</c> (LiteLLM's <c>cache_control_check</c>): a body control not in a non-empty list is
/// LiteLLM's 403 before any call; an empty list allows every control; a header directive not allowed is not honoured.
/// </summary>
public sealed class AllowedCacheControlsTests : IAsyncLifetime
{
    private CacheGateway _g = null!;

    private const string Ask = """{"model":"gpt-test","messages":[{"role":"user","content":"allowed controls?"}]""";

    public async Task InitializeAsync() => _g = await CacheGateway.StartAsync();

    public async Task DisposeAsync() => await _g.DisposeAsync();

    private int Calls => _g.Upstream.Requests.Count;

    [Fact]
    public async Task A_control_the_key_may_not_set_is_a_403_with_litellms_message_before_any_call()
    {
        var key = await _g.NewKeyAsync("""{"allowed_cache_controls":["no-cache"]}""");
        Assert.Equal("bypass", (await _g.PostAsync("/v1/chat/completions", Ask + ""","cache":{"no-cache":true}}""", key)).Cache);
        Assert.Equal(1, Calls);

        foreach (var control in new[] { "no-store", "ttl", "namespace" })
        {
            var value = control switch { "ttl" => "5", "namespace" => "\"n\"", _ => "true" };
            var refused = await _g.PostAsync("/v1/chat/completions", Ask + ",\"cache\":{\"" + control + "\":" + value + "}}", key);
            Assert.Equal(403, refused.Status);
            var error = JsonDocument.Parse(refused.Body).RootElement.GetProperty("error");
            Assert.Equal($"Not allowed to set {control} as a cache control. Contact admin to change permissions.", error.GetProperty("message").GetString());
            Assert.Equal("cache." + control, error.GetProperty("param").GetString());
        }
        // As LiteLLM: the value does not matter, naming the control is setting it.
        Assert.Equal(403, (await _g.PostAsync("/v1/chat/completions", Ask + ""","cache":{"no-store":false}}""", key)).Status);
        Assert.Equal(1, Calls);
        // Without a cache object the key is served as any other.
        Assert.Equal("hit", (await _g.PostAsync("/v1/chat/completions", Ask + "}", key)).Cache);
    }

    [Fact]
    public async Task An_empty_list_allows_every_control_and_s_maxage_allows_both_spellings()
    {
        var open = await _g.NewKeyAsync("""{"allowed_cache_controls":[]}""");
        Assert.Equal("miss", (await _g.PostAsync("/v1/chat/completions", Ask + ""","cache":{"no-store":true,"ttl":5,"namespace":"x"}}""", open)).Cache);

        var aged = await _g.NewKeyAsync("""{"allowed_cache_controls":["s-maxage"]}""");
        Assert.Equal(200, (await _g.PostAsync("/v1/chat/completions", Ask + ""","cache":{"s-max-age":10}}""", aged)).Status);
        Assert.Equal(200, (await _g.PostAsync("/v1/chat/completions", Ask + ""","cache":{"s-maxage":10}}""", aged)).Status);
    }

    [Fact]
    public async Task A_header_directive_the_key_may_not_use_is_not_honoured_and_is_named_in_a_warning()
    {
        var key = await _g.NewKeyAsync("""{"allowed_cache_controls":["ttl"]}""");
        using (var first = await _g.SendAsync(HttpMethod.Post, "/v1/chat/completions", Ask + "}", key, cacheControl: "no-store"))
        {
            Assert.Equal(200, (int)first.StatusCode);
            Assert.Contains("Cache-Control no-store ignored", string.Join(",", first.Headers.GetValues("x-llmux-warnings")), StringComparison.Ordinal);
        }
        // no-store was not honoured: the answer was stored. no-cache is not honoured either: the lookup runs.
        Assert.Equal("hit", (await _g.PostAsync("/v1/chat/completions", Ask + "}", key, cacheControl: "no-cache")).Cache);
        Assert.Equal(1, Calls);
    }

    [Fact]
    public async Task Key_routes_keep_validate_and_change_the_list()
    {
        using (var bad = await _g.SendAsync(HttpMethod.Post, "/key/generate", """{"allowed_cache_controls":["no-cahce"]}""", CacheGateway.Master))
        {
            Assert.Equal(400, (int)bad.StatusCode);
            Assert.Contains("no-cahce", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        var key = await _g.NewKeyAsync("""{"allowed_cache_controls":["no-cache"]}""");
        using (var info = await _g.SendAsync(HttpMethod.Get, "/key/info?key=" + key, null, CacheGateway.Master))
        {
            var text = await info.Content.ReadAsStringAsync();
            Assert.True(info.IsSuccessStatusCode, text);
            Assert.Equal(["no-cache"], JsonDocument.Parse(text).RootElement.GetProperty("info").GetProperty("allowed_cache_controls").EnumerateArray().Select(e => e.GetString()));
        }
        Assert.Equal(403, (await _g.PostAsync("/v1/chat/completions", Ask + ""","cache":{"no-store":true}}""", key)).Status);
        using (var update = await _g.SendAsync(HttpMethod.Post, "/key/update", $$"""{"key":"{{key}}","allowed_cache_controls":["no-cache","no-store"]}""", CacheGateway.Master))
            Assert.True(update.IsSuccessStatusCode, await update.Content.ReadAsStringAsync());
        Assert.Equal("miss", (await _g.PostAsync("/v1/chat/completions", Ask + ""","cache":{"no-store":true}}""", key)).Cache);
    }
}
