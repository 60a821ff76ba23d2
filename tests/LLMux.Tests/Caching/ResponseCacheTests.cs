using System.Text.Json;
using LLMux.Emulators;
using LLMux.Tests.Responses;

namespace LLMux.Tests.Caching;

/// <summary>The response cache end to end: tenant scope, every control, chat (JSON and stream), embeddings per input, /v1/messages and /v1/responses, TTL on the fake clock.</summary>
public sealed class ResponseCacheTests : IAsyncLifetime
{
    private CacheGateway _g = null!;
    private string _alice = null!;
    private string _bob = null!;

    private const string Chat = """{"model":"gpt-test","messages":[{"role":"user","content":"What is 2+2?"}],"temperature":0}""";
    private const string ChatStream = """{"model":"gpt-test","messages":[{"role":"user","content":"Count to three"}],"stream":true}""";

    public async Task InitializeAsync()
    {
        _g = await CacheGateway.StartAsync();
        _alice = await _g.NewKeyAsync();
        _bob = await _g.NewKeyAsync();
    }

    public async Task DisposeAsync() => await _g.DisposeAsync();

    private int Calls => _g.Upstream.Requests.Count;

    [Fact]
    public async Task Repeated_chat_is_a_hit_with_cost_zero_and_the_same_body()
    {
        var first = await _g.PostAsync("/v1/chat/completions", Chat, _alice);
        Assert.Equal(200, first.Status);
        Assert.Equal("miss", first.Cache);
        Assert.NotEqual("0", first.Cost);
        Assert.Equal(1, Calls);

        var second = await _g.PostAsync("/v1/chat/completions", Chat, _alice);
        Assert.Equal("hit", second.Cache);
        Assert.Equal(first.Key, second.Key);
        Assert.Equal("0", second.Cost);
        Assert.Equal(first.Body, second.Body);
        Assert.Equal(1, Calls);

        // Member order and fields that cannot change the answer do not make a new entry; a parameter that can does.
        var reordered = await _g.PostAsync("/v1/chat/completions", """{"temperature":0,"messages":[{"content":"What is 2+2?","role":"user"}],"model":"gpt-test","user":"u-9","metadata":{"a":"b"}}""", _alice);
        Assert.Equal("hit", reordered.Cache);
        var warmer = await _g.PostAsync("/v1/chat/completions", """{"model":"gpt-test","messages":[{"role":"user","content":"What is 2+2?"}],"temperature":1}""", _alice);
        Assert.Equal("miss", warmer.Cache);
        Assert.Equal(2, Calls);
    }

    [Fact]
    public async Task Two_keys_with_the_same_body_are_two_misses()
    {
        var a = await _g.PostAsync("/v1/chat/completions", Chat, _alice);
        var b = await _g.PostAsync("/v1/chat/completions", Chat, _bob);
        Assert.Equal("miss", a.Cache);
        Assert.Equal("miss", b.Cache);
        Assert.NotEqual(a.Key, b.Key);
        Assert.Equal(2, Calls);
        Assert.Equal("hit", (await _g.PostAsync("/v1/chat/completions", Chat, _bob)).Cache);
        Assert.Equal("hit", (await _g.PostAsync("/v1/chat/completions", Chat, _alice)).Cache);
        Assert.Equal(2, Calls);
    }

    [Fact]
    public async Task Entries_expire_after_their_ttl_on_the_time_provider()
    {
        await _g.PostAsync("/v1/chat/completions", Chat, _alice);
        _g.Time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal("hit", (await _g.PostAsync("/v1/chat/completions", Chat, _alice)).Cache);
        _g.Time.Advance(TimeSpan.FromSeconds(2)); // past cache_params.ttl: 60
        Assert.Equal("miss", (await _g.PostAsync("/v1/chat/completions", Chat, _alice)).Cache);
        Assert.Equal(2, Calls);

        // A request's own ttl.
        const string shortLived = """{"model":"gpt-test","messages":[{"role":"user","content":"short"}],"cache":{"ttl":5}}""";
        await _g.PostAsync("/v1/chat/completions", shortLived, _alice);
        _g.Time.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal("miss", (await _g.PostAsync("/v1/chat/completions", shortLived, _alice)).Cache);
    }

    [Fact]
    public async Task No_cache_skips_the_lookup_but_stores_and_no_store_never_stores()
    {
        const string body = """{"model":"gpt-test","messages":[{"role":"user","content":"fresh please"}]""";
        var skipped = await _g.PostAsync("/v1/chat/completions", body + ""","cache":{"no-cache":true}}""", _alice);
        Assert.Equal("bypass", skipped.Cache);
        Assert.Equal("hit", (await _g.PostAsync("/v1/chat/completions", body + "}", _alice)).Cache); // stored by the no-cache call
        Assert.Equal("bypass", (await _g.PostAsync("/v1/chat/completions", body + "}", _alice, cacheControl: "no-cache")).Cache);
        Assert.Equal(2, Calls);

        const string other = """{"model":"gpt-test","messages":[{"role":"user","content":"do not keep this"}]""";
        Assert.Equal("miss", (await _g.PostAsync("/v1/chat/completions", other + ""","cache":{"no-store":true}}""", _alice)).Cache);
        Assert.Equal("miss", (await _g.PostAsync("/v1/chat/completions", other + "}", _alice, cacheControl: "no-store")).Cache);
        Assert.Equal("miss", (await _g.PostAsync("/v1/chat/completions", other + "}", _alice)).Cache);
        Assert.Equal(5, Calls);
    }

    [Fact]
    public async Task S_maxage_and_max_age_refuse_entries_older_than_asked()
    {
        await _g.PostAsync("/v1/chat/completions", Chat, _alice);
        _g.Time.Advance(TimeSpan.FromSeconds(30));
        var tooOld = Chat[..^1] + ""","cache":{"s-maxage":10}}""";
        Assert.Equal("miss", (await _g.PostAsync("/v1/chat/completions", tooOld, _alice)).Cache); // and its fresh answer replaces the old entry
        Assert.Equal(2, Calls);
        _g.Time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal("hit", (await _g.PostAsync("/v1/chat/completions", Chat, _alice, cacheControl: "max-age=25")).Cache);
        Assert.Equal("miss", (await _g.PostAsync("/v1/chat/completions", Chat, _alice, cacheControl: "max-age=15")).Cache);
        Assert.Equal(3, Calls);
    }

    [Fact]
    public async Task Namespace_keeps_entries_apart_and_prefixes_the_key()
    {
        var plain = await _g.PostAsync("/v1/chat/completions", Chat, _alice);
        var spaced = await _g.PostAsync("/v1/chat/completions", Chat[..^1] + ""","cache":{"namespace":"eval-7"}}""", _alice);
        Assert.Equal("miss", spaced.Cache);
        Assert.StartsWith("eval-7:", spaced.Key);
        Assert.DoesNotContain(":", plain.Key);
        Assert.Equal("hit", (await _g.PostAsync("/v1/chat/completions", Chat[..^1] + ""","cache":{"namespace":"eval-7"}}""", _alice)).Cache);
        Assert.Equal(2, Calls);
    }

    [Theory]
    [InlineData(""","cache":{"ttl":"soon"}}""", "cache.ttl")]
    [InlineData(""","cache":{"no-cache":"yes"}}""", "cache.no-cache")]
    [InlineData(""","cache":{"forever":true}}""", "cache")]
    [InlineData(""","cache":"no-store"}""", "cache")]
    public async Task Bad_cache_controls_are_a_400_before_any_call(string tail, string param)
    {
        var answer = await _g.PostAsync("/v1/chat/completions", Chat[..^1] + tail, _alice);
        Assert.Equal(400, answer.Status);
        Assert.Equal(param, JsonDocument.Parse(answer.Body).RootElement.GetProperty("error").GetProperty("param").GetString());
        Assert.Equal(0, Calls);
    }

    [Fact]
    public async Task A_stream_replays_the_same_frames_and_ends_as_the_original()
    {
        var first = await _g.PostAsync("/v1/chat/completions", ChatStream, _alice);
        Assert.Equal("miss", first.Cache);
        var second = await _g.PostAsync("/v1/chat/completions", ChatStream, _alice);
        Assert.Equal("hit", second.Cache);
        Assert.Equal(1, Calls);
        Assert.Equal(first.Body, second.Body); // byte for byte: same frames, same boundaries, same [DONE]
        var frames = second.Body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.True(frames.Length > 3);
        Assert.All(frames, f => Assert.StartsWith("data: ", f));
        Assert.Equal("data: [DONE]", frames[^1]);

        // Stream and JSON answers are different entries.
        Assert.Equal("miss", (await _g.PostAsync("/v1/chat/completions", ChatStream.Replace(",\"stream\":true", ""), _alice)).Cache);
    }

    [Theory]
    [InlineData("error")]
    [InlineData("truncate")]
    public async Task A_stream_that_did_not_end_cleanly_is_never_stored(string how)
    {
        _g.Upstream.Enqueue(how == "error" ? new OpenAIScript { ErrorEventAfter = 2 } : new OpenAIScript { TruncateAfter = 2 });
        var broken = await _g.PostAsync("/v1/chat/completions", ChatStream, _alice);
        Assert.DoesNotContain("[DONE]", broken.Body);
        var again = await _g.PostAsync("/v1/chat/completions", ChatStream, _alice);
        Assert.Equal("miss", again.Cache);
        Assert.Equal(2, Calls);
        Assert.EndsWith("data: [DONE]\n\n", again.Body);
        Assert.Equal("hit", (await _g.PostAsync("/v1/chat/completions", ChatStream, _alice)).Cache);
    }

    [Fact]
    public async Task Embeddings_are_cached_per_input_and_only_new_inputs_go_upstream()
    {
        var first = await _g.PostAsync("/v1/embeddings", """{"model":"embed-test","input":["alpha","beta"]}""", _alice);
        Assert.Equal("miss", first.Cache);
        Assert.Equal("0/2", first.Items);

        var mixed = await _g.PostAsync("/v1/embeddings", """{"model":"embed-test","input":["beta","gamma","alpha"]}""", _alice);
        Assert.Equal(200, mixed.Status);
        Assert.Equal("2/3", mixed.Items);
        using var sent = _g.Upstream.Requests.Last().Json();
        Assert.Equal(["gamma"], sent.RootElement.GetProperty("input").EnumerateArray().Select(e => e.GetString()));
        var data = JsonDocument.Parse(mixed.Body).RootElement.GetProperty("data");
        Assert.Equal(3, data.GetArrayLength());
        for (var i = 0; i < 3; i++) Assert.Equal(i, data[i].GetProperty("index").GetInt32());
        Assert.Equal(0.5, data[0].GetProperty("embedding")[0].GetDouble());  // beta, as first answered (2nd position)
        Assert.Equal(0.25, data[1].GetProperty("embedding")[0].GetDouble()); // gamma, fresh
        Assert.Equal(0.25, data[2].GetProperty("embedding")[0].GetDouble()); // alpha, as first answered
        Assert.Equal("text-embedding-3-small", JsonDocument.Parse(mixed.Body).RootElement.GetProperty("model").GetString());

        var all = await _g.PostAsync("/v1/embeddings", """{"model":"embed-test","input":["gamma","alpha"]}""", _alice);
        Assert.Equal("hit", all.Cache);
        Assert.Equal("0", all.Cost);
        Assert.Equal(2, Calls);
        Assert.Equal(0, JsonDocument.Parse(all.Body).RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());

        // encoding_format is part of the key: base64 is a new entry.
        Assert.Equal("miss", (await _g.PostAsync("/v1/embeddings", """{"model":"embed-test","input":["gamma"],"encoding_format":"base64"}""", _alice)).Cache);
        // And another tenant starts from nothing.
        Assert.Equal("0/1", (await _g.PostAsync("/v1/embeddings", """{"model":"embed-test","input":"alpha"}""", _bob)).Items);
    }

    [Fact]
    public async Task Messages_bridge_is_answered_from_the_cache()
    {
        const string body = """{"model":"gpt-test","max_tokens":100,"messages":[{"role":"user","content":"Hello Claude"}]}""";
        var first = await _g.PostAsync("/v1/messages", body, _alice);
        Assert.Equal(200, first.Status);
        Assert.Equal("miss", first.Cache);
        var second = await _g.PostAsync("/v1/messages", body, _alice);
        Assert.Equal("hit", second.Cache);
        Assert.Equal(1, Calls);
        Assert.Equal("message", JsonDocument.Parse(second.Body).RootElement.GetProperty("type").GetString());
        Assert.Equal(
            JsonDocument.Parse(first.Body).RootElement.GetProperty("content").GetRawText(),
            JsonDocument.Parse(second.Body).RootElement.GetProperty("content").GetRawText());

        var streamed = body[..^1] + ""","stream":true}""";
        var s1 = await _g.PostAsync("/v1/messages", streamed, _alice);
        var s2 = await _g.PostAsync("/v1/messages", streamed, _alice);
        Assert.Equal("hit", s2.Cache);
        Assert.Equal(2, Calls);
        Assert.Contains("event: message_stop", s2.Body);
        Assert.Equal(Texts(s1.Body), Texts(s2.Body));
    }

    private static string Texts(string anthropicStream) => string.Concat(anthropicStream.Split("\n\n").Where(f => f.Contains("text_delta")).Select(f => JsonDocument.Parse(f[(f.IndexOf("data: ", StringComparison.Ordinal) + 6)..]).RootElement.GetProperty("delta").GetProperty("text").GetString()));

    [Fact]
    public async Task Responses_bridge_hits_get_their_own_response_ids_and_stream_as_OpenAI()
    {
        const string body = """{"model":"gpt-test","input":"Tell me a fact"}""";
        var first = await _g.PostAsync("/v1/responses", body, _alice);
        var second = await _g.PostAsync("/v1/responses", body, _alice);
        Assert.Equal("miss", first.Cache);
        Assert.Equal("hit", second.Cache);
        Assert.Equal(1, Calls);
        var a = JsonDocument.Parse(first.Body).RootElement;
        var b = JsonDocument.Parse(second.Body).RootElement;
        Assert.NotEqual(a.GetProperty("id").GetString(), b.GetProperty("id").GetString());
        Assert.Equal(a.GetProperty("output")[0].GetProperty("content").GetRawText(), b.GetProperty("output")[0].GetProperty("content").GetRawText());

        var streamed = """{"model":"gpt-test","input":"Tell me a fact","stream":true}""";
        var s1 = await _g.PostAsync("/v1/responses", streamed, _alice);
        var s2 = await _g.PostAsync("/v1/responses", streamed, _alice);
        Assert.Equal("hit", s2.Cache);
        Assert.Equal(2, Calls);
        var e1 = ResponsesEventStream.Parse(s1.Body);
        var e2 = ResponsesEventStream.Parse(s2.Body);
        e2.AssertWellFormed();
        Assert.Equal(e1.Types, e2.Types);
        Assert.Equal(e1.Single("response.output_text.done").GetProperty("text").GetString(), e2.Single("response.output_text.done").GetProperty("text").GetString());
    }
}
