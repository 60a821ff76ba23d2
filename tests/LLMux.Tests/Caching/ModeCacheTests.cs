using System.Text.Json;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;
using LLMux.Tests.Modes;

namespace LLMux.Tests.Caching;

/// <summary>
/// The response cache on <c>/v1/completions</c> (native text-completion API, the chat bridge one call per prompt, FIM)
/// and <c>/v1/rerank</c>: hit, miss on a parameter that changes the answer, bypass, tenant isolation, stream replay.
/// </summary>
public sealed class ModeCacheTests : IAsyncLifetime
{
    private CacheGateway _g = null!;
    private TextCompletionEmulator _text = null!;
    private RerankEmulator _rerank = null!;
    private string _alice = null!;
    private string _bob = null!;

    private const string Documents = """["Berlin is the capital of Germany","Paris is the capital of France",{"text":"Madrid is in Spain","title":"es"}]""";
    private const string Rerank = """{"model":"rerank-test","query":"capital of France","documents":""" + Documents + ""","top_n":2}""";

    public async Task InitializeAsync()
    {
        _text = await TextCompletionEmulator.StartNewAsync();
        _rerank = await RerankEmulator.StartNewAsync(RerankFlavor.CohereV2);
        _g = await CacheGateway.StartAsync(extraModels: $"""
              - model_name: instruct
                litellm_params:
                  model: openai/gpt-3.5-turbo-instruct
                  api_base: {_text.ApiBase}
                  api_key: sk-text
              - model_name: codestral
                litellm_params:
                  model: mistral/codestral-latest
                  api_base: {_text.ApiBase}
                  api_key: mistral-key
              - model_name: rerank-test
                litellm_params:
                  model: cohere/rerank-v3.5
                  api_base: {_rerank.ApiBase}
                  api_key: co-key
            """);
        _alice = await _g.NewKeyAsync();
        _bob = await _g.NewKeyAsync();
    }

    public async Task DisposeAsync()
    {
        await _g.DisposeAsync();
        await _rerank.DisposeAsync();
        await _text.DisposeAsync();
    }

    private static JsonElement Json(string body) => JsonDocument.Parse(body).RootElement.Clone();

    [Fact]
    public async Task Native_completion_is_a_hit_with_cost_zero_and_a_changed_parameter_is_a_miss()
    {
        const string body = """{"model":"instruct","prompt":"def add(a, b):","max_tokens":16,"temperature":0}""";
        var first = await _g.PostAsync("/v1/completions", body, _alice);
        Assert.Equal(200, first.Status);
        Assert.Equal("miss", first.Cache);
        Assert.NotEqual("0", first.Cost);
        var second = await _g.PostAsync("/v1/completions", body, _alice);
        Assert.Equal("hit", second.Cache);
        Assert.Equal(first.Key, second.Key);
        Assert.Equal("0", second.Cost);
        Assert.Equal(first.Body, second.Body);
        Assert.Single(_text.Requests);

        // Fields that cannot change the answer share the entry; one that can (suffix, max_tokens) does not.
        Assert.Equal("hit", (await _g.PostAsync("/v1/completions", """{"user":"u-1","temperature":0,"max_tokens":16,"prompt":"def add(a, b):","model":"instruct"}""", _alice)).Cache);
        Assert.Equal("miss", (await _g.PostAsync("/v1/completions", body.Replace("16", "17", StringComparison.Ordinal), _alice)).Cache);
        Assert.Equal("miss", (await _g.PostAsync("/v1/completions", body[..^1] + ""","suffix":"return"}""", _alice)).Cache);
        Assert.Equal(3, _text.Requests.Count);

        // Another tenant, the same body: a miss of its own.
        var other = await _g.PostAsync("/v1/completions", body, _bob);
        Assert.Equal("miss", other.Cache);
        Assert.NotEqual(first.Key, other.Key);
        Assert.Equal(4, _text.Requests.Count);
    }

    [Fact]
    public async Task Native_completion_stream_replays_the_same_frames()
    {
        const string body = """{"model":"instruct","prompt":"SELECT","stream":true}""";
        var first = await _g.PostAsync("/v1/completions", body, _alice);
        Assert.Equal("miss", first.Cache);
        var second = await _g.PostAsync("/v1/completions", body, _alice);
        Assert.Equal("hit", second.Cache);
        Assert.Single(_text.Requests);
        Assert.Equal(first.Body, second.Body);
        Assert.Equal("[DONE]", SseFrames.Data(second.Body)[^1]);
        Assert.All(SseFrames.Json(second.Body), static c => Assert.Equal("text_completion", c.GetProperty("object").GetString()));
        // A stream is not a JSON answer.
        Assert.Equal("miss", (await _g.PostAsync("/v1/completions", body.Replace(",\"stream\":true", "", StringComparison.Ordinal), _alice)).Cache);
    }

    [Fact]
    public async Task Completion_cache_controls_apply_body_and_header()
    {
        const string body = """{"model":"instruct","prompt":"controls"}""";
        Assert.Equal("miss", (await _g.PostAsync("/v1/completions", body, _alice)).Cache);
        Assert.Equal("bypass", (await _g.PostAsync("/v1/completions", body, _alice, cacheControl: "no-cache")).Cache);
        Assert.Equal("bypass", (await _g.PostAsync("/v1/completions", body[..^1] + ""","cache":{"no-cache":true}}""", _alice)).Cache);
        Assert.Equal(3, _text.Requests.Count);
        using (var sent = _text.Requests.Last().Json()) Assert.False(sent.RootElement.TryGetProperty("cache", out _)); // the gateway's own field never goes upstream
        var bad = await _g.PostAsync("/v1/completions", body[..^1] + ""","cache":{"no-cache":"yes"}}""", _alice);
        Assert.Equal(400, bad.Status);
        Assert.Equal("cache.no-cache", Json(bad.Body).GetProperty("error").GetProperty("param").GetString());
        Assert.Equal(3, _text.Requests.Count);
    }

    [Fact]
    public async Task Bridged_completion_caches_each_prompt_so_a_new_prompt_alone_goes_upstream()
    {
        var first = await _g.PostAsync("/v1/completions", """{"model":"gpt-test","prompt":["one","two"],"max_tokens":8}""", _alice);
        Assert.Equal(200, first.Status);
        Assert.Equal("miss", first.Cache);
        Assert.Equal("0/2", first.Items);
        Assert.Equal(2, first.Key!.Split(", ").Length);
        Assert.Equal(2, _g.Upstream.Requests.Count);

        var again = await _g.PostAsync("/v1/completions", """{"model":"gpt-test","prompt":["one","two"],"max_tokens":8}""", _alice);
        Assert.Equal("hit", again.Cache);
        Assert.Equal("2/2", again.Items);
        Assert.Equal(first.Key, again.Key);
        Assert.Equal("0", again.Cost);
        Assert.Equal(2, _g.Upstream.Requests.Count);
        var a = Json(first.Body).GetProperty("choices");
        var b = Json(again.Body).GetProperty("choices");
        Assert.Equal("text_completion", Json(again.Body).GetProperty("object").GetString());
        Assert.Equal(a.GetRawText(), b.GetRawText());

        // One new prompt: only it is sent, and the answer keeps the caller's order.
        var mixed = await _g.PostAsync("/v1/completions", """{"model":"gpt-test","prompt":["two","three"],"max_tokens":8}""", _alice);
        Assert.Equal("miss", mixed.Cache);
        Assert.Equal("1/2", mixed.Items);
        Assert.Equal(3, _g.Upstream.Requests.Count);
        using var sent = _g.Upstream.Requests.Last().Json();
        Assert.Equal("three", sent.RootElement.GetProperty("messages")[0].GetProperty("content").GetString());
        var choices = Json(mixed.Body).GetProperty("choices");
        Assert.Equal(a[1].GetProperty("text").GetString(), choices[0].GetProperty("text").GetString());
        Assert.Equal(1, choices[1].GetProperty("index").GetInt32());

        // The other tenant shares nothing.
        Assert.Equal("0/2", (await _g.PostAsync("/v1/completions", """{"model":"gpt-test","prompt":["one","two"],"max_tokens":8}""", _bob)).Items);
        Assert.Equal(5, _g.Upstream.Requests.Count);
    }

    [Fact]
    public async Task Bridged_completion_stream_replays_as_text_completion_chunks()
    {
        const string body = """{"model":"gpt-test","prompt":"stream me","stream":true}""";
        var first = await _g.PostAsync("/v1/completions", body, _alice);
        Assert.Equal("miss", first.Cache);
        var second = await _g.PostAsync("/v1/completions", body, _alice);
        Assert.Equal("hit", second.Cache);
        Assert.Single(_g.Upstream.Requests);
        var data = SseFrames.Data(second.Body);
        Assert.Equal("[DONE]", data[^1]);
        Assert.Single(data, static d => d == "[DONE]");
        static string Text(string sse) => string.Concat(SseFrames.Json(sse).Where(static c => c.GetProperty("choices").GetArrayLength() > 0).Select(static c => c.GetProperty("choices")[0].GetProperty("text").GetString()));
        Assert.All(SseFrames.Json(second.Body), static c => Assert.Equal("text_completion", c.GetProperty("object").GetString()));
        Assert.Equal(Text(first.Body), Text(second.Body));
        Assert.NotEmpty(Text(second.Body));
    }

    [Fact]
    public async Task Fim_completion_is_cached()
    {
        const string body = """{"model":"codestral","prompt":"def add(a, b):","suffix":"print(add(1, 2))","max_tokens":40}""";
        var first = await _g.PostAsync("/v1/completions", body, _alice);
        Assert.Equal("miss", first.Cache);
        var second = await _g.PostAsync("/v1/completions", body, _alice);
        Assert.Equal("hit", second.Cache);
        Assert.Single(_text.Requests);
        Assert.Equal(Json(first.Body).GetProperty("choices").GetRawText(), Json(second.Body).GetProperty("choices").GetRawText());
        Assert.Equal("miss", (await _g.PostAsync("/v1/completions", body.Replace("print(add(1, 2))", "print(add(2, 3))", StringComparison.Ordinal), _alice)).Cache);
    }

    [Fact]
    public async Task Rerank_is_a_hit_per_tenant_and_its_parameters_are_part_of_the_key()
    {
        var first = await _g.PostAsync("/v1/rerank", Rerank, _alice);
        Assert.Equal(200, first.Status);
        Assert.Equal("miss", first.Cache);
        Assert.NotEqual("0", first.Cost);
        var second = await _g.PostAsync("/v1/rerank", Rerank, _alice);
        Assert.Equal("hit", second.Cache);
        Assert.Equal("0", second.Cost);
        Assert.Equal(first.Body, second.Body);
        Assert.Single(_rerank.Requests);

        // The same question on /v2/rerank is the same entry; top_n, the query or the documents make a new one.
        Assert.Equal("hit", (await _g.PostAsync("/v2/rerank", Rerank, _alice)).Cache);
        Assert.Equal("miss", (await _g.PostAsync("/v1/rerank", Rerank.Replace("\"top_n\":2", "\"top_n\":1", StringComparison.Ordinal), _alice)).Cache);
        Assert.Equal("miss", (await _g.PostAsync("/v1/rerank", Rerank.Replace("France", "Spain", StringComparison.Ordinal), _alice)).Cache);
        Assert.Equal(3, _rerank.Requests.Count);

        Assert.Equal("miss", (await _g.PostAsync("/v1/rerank", Rerank, _bob)).Cache);
        Assert.Equal("bypass", (await _g.PostAsync("/v1/rerank", Rerank, _alice, cacheControl: "no-cache")).Cache);
        Assert.Equal("miss", (await _g.PostAsync("/v1/rerank", Rerank[..^1] + ""","cache":{"no-store":true,"namespace":"n1"}}""", _alice)).Cache);
        Assert.Equal("miss", (await _g.PostAsync("/v1/rerank", Rerank[..^1] + ""","cache":{"namespace":"n1"}}""", _alice)).Cache);
        Assert.Equal(7, _rerank.Requests.Count);
        using (var sent = _rerank.Requests.Last().Json()) Assert.False(sent.RootElement.TryGetProperty("cache", out _));
    }
}
