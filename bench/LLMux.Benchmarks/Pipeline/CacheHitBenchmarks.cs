using System.Text;
using BenchmarkDotNet.Attributes;
using LLMux.Pipeline.Composition;
using LLMux.Pipeline.Context;
using LLMux.Providers.OpenAI;
using LLMux.Stages;
using LLMux.Stages.Accounting;
using LLMux.Stages.Caching;
using LLMux.Stages.Routing;

namespace LLMux.Benchmarks.Pipeline;

/// <summary>
/// A response-cache hit (key hashing, lookup, body copy; no upstream) next to the same non-stream chat call through
/// the pipeline without a cache (in-memory upstream) and the bare upstream call: what a hit costs, and saves.
/// </summary>
[MemoryDiagnoser]
public class CacheHitBenchmarks
{
    private static readonly byte[] Request = Encoding.UTF8.GetBytes(
        """{"model":"bench","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say something about load testing."}],"temperature":0.2,"max_tokens":64}""");

    private static readonly byte[] Answer = Encoding.UTF8.GetBytes(
        """{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Load testing finds limits before users do."},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":21,"completion_tokens":9,"total_tokens":30,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}""");

    private static readonly Caller Tenant = new() { KeyHash = "bench-key" };

    private HttpMessageInvoker _transport = null!;
    private StageDelegate _plain = null!;
    private StageDelegate _cached = null!;
    private LlmContextPool _pool = null!;

    [GlobalSetup]
    public async Task Setup()
    {
        _transport = new HttpMessageInvoker(new CannedHandler(Answer));
        var provider = new CannedOpenAIProvider(_transport, OpenAISpec.Spec);
        var deployment = new Deployment
        {
            ModelName = "bench", Model = "openai/gpt-4o-mini", ProviderName = "openai", UpstreamModel = "gpt-4o-mini",
            Provider = provider, Id = "d1", ApiBase = "http://127.0.0.1:1/v1", ApiKey = new Secret("sk-bench"),
        };
        var registry = new ModelRegistry([deployment]);
        var settings = new GatewaySettings { Router = new RouterSettings { NumRetries = 0 } };
        var standard = LlmPipelines.CreateBuilder(registry, settings, _transport, new RouterState(TimeProvider.System), new CostCalculator(PriceTable.Default));
        _plain = standard.Build();
        var cache = new CacheSettings { Enabled = true, MaxEntries = 1000 };
        var withCache = new LlmPipelineBuilder();
        foreach (var stage in standard.Stages)
        {
            if (stage is RouteStage) withCache.Use(new CacheStage(cache, new MemoryCacheStore(cache)));
            withCache.Use(stage);
        }
        _cached = withCache.Build();
        _pool = new LlmContextPool();
        await Run(_cached); // the one miss that fills the entry
    }

    [Benchmark(Baseline = true, Description = "bare upstream call + body read")]
    public async Task<int> DirectCall()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "http://127.0.0.1:1/v1/chat/completions") { Content = new ByteArrayContent(Request) };
        using var response = await _transport.SendAsync(request, CancellationToken.None);
        var body = await response.Content.ReadAsByteArrayAsync();
        return body.Length;
    }

    [Benchmark(Description = "pipeline, no cache (upstream call)")]
    public Task<int> Miss() => Run(_plain);

    [Benchmark(Description = "pipeline, cache hit")]
    public Task<int> Hit() => Run(_cached);

    private async Task<int> Run(StageDelegate pipeline)
    {
        var context = _pool.Rent();
        try
        {
            context.Mode = LLMux.Pipeline.Capabilities.LlmMode.Chat;
            context.Caller = Tenant;
            context.Body = Request;
            await pipeline(context);
            return context.ResponseBody!.Length;
        }
        finally
        {
            context.RunCompleted();
            _pool.Return(context);
        }
    }
}
