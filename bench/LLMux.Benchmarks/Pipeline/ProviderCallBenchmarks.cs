using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using LLMux.Host.Config;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Wire;
using LLMux.Providers;

namespace LLMux.Benchmarks.Pipeline;

/// <summary>
/// Each provider's request writer (parsed OpenAI request → upstream <see cref="HttpRequestMessage"/>, body, headers
/// and, for Bedrock, the SigV4 signature) and error mapper (upstream error body → the taxonomy), next to what a
/// forwarder that understood the body would do at least: serialize the request once, or parse the error once.
/// Deployments come from the same YAML loader the host uses.
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkDotNet.Configs.BenchmarkLogicalGroupRule.ByCategory, BenchmarkDotNet.Configs.BenchmarkLogicalGroupRule.ByParams)]
public class ProviderCallBenchmarks
{
    private static readonly byte[] Request = Encoding.UTF8.GetBytes(
        """{"model":"bench","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say something about load testing."}],"temperature":0.2,"max_tokens":64,"tools":[{"type":"function","function":{"name":"lookup","description":"Look a word up","parameters":{"type":"object","properties":{"word":{"type":"string"}},"required":["word"]}}}]}""");

    private static readonly Dictionary<string, byte[]> ErrorBodies = new()
    {
        ["openai"] = Encoding.UTF8.GetBytes("""{"error":{"message":"Rate limit reached for gpt-4o-mini in organization org-x on tokens per min (TPM): Limit 200000, Used 199000, Requested 1200.","type":"tokens","param":null,"code":"rate_limit_exceeded"}}"""),
        ["anthropic"] = Encoding.UTF8.GetBytes("""{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}"""),
        ["gemini"] = Encoding.UTF8.GetBytes("""{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}"""),
        ["bedrock"] = Encoding.UTF8.GetBytes("""{"message":"Too many requests, please wait before trying again."}"""),
        ["cohere"] = Encoding.UTF8.GetBytes("""{"id":"b5e0f5b1-0b0a-4b8e-9d5e-7c1f1e2a9f00","message":"You are using a Trial key, which is limited to 10 API calls / minute."}"""),
    };

    private Dictionary<string, Deployment> _deployments = null!;
    private ChatRequest _chat = null!;
    private HttpResponseHeaders _headers = null!;

    [Params("openai", "anthropic", "gemini", "bedrock", "cohere")]
    public string Provider { get; set; } = "openai";

    [GlobalSetup]
    public void Setup()
    {
        var config = new ConfigLoader(new ProviderCatalog()).Load(new StringReader("""
            model_list:
              - model_name: openai
                litellm_params: { model: openai/gpt-4o-mini, api_base: "http://127.0.0.1:9/v1", api_key: sk-bench }
              - model_name: anthropic
                litellm_params: { model: anthropic/claude-sonnet-4-5, api_base: "http://127.0.0.1:9", api_key: sk-ant-bench }
              - model_name: gemini
                litellm_params: { model: gemini/gemini-2.5-flash, api_base: "http://127.0.0.1:9/v1beta", api_key: gemini-bench }
              - model_name: bedrock
                litellm_params: { model: bedrock/converse/anthropic.claude-3-haiku-20240307-v1:0, api_base: "http://127.0.0.1:9", aws_access_key_id: AKIDBENCH, aws_secret_access_key: "bench/secret+KEY", aws_region_name: us-east-1 }
              - model_name: cohere
                litellm_params: { model: cohere/command-r-plus, api_base: "http://127.0.0.1:9", api_key: co-bench }
            """), "bench");
        _deployments = config.Deployments.ToDictionary(d => d.ModelName);
        _chat = JsonSerializer.Deserialize(Request, WireJson.Default.ChatRequest)!;
        using var response = new HttpResponseMessage(System.Net.HttpStatusCode.TooManyRequests);
        response.Headers.TryAddWithoutValidation("retry-after", "7");
        response.Headers.TryAddWithoutValidation("x-request-id", "req_bench");
        _headers = response.Headers;
    }

    private LlmContext Context() => new()
    {
        Mode = LlmMode.Chat,
        Body = Request,
        Chat = _chat,
        Deployment = _deployments[Provider],
    };

    [Benchmark(Baseline = true, Description = "serialize the parsed request once (floor)"), BenchmarkCategory("request")]
    public int SerializeOnce()
    {
        using var buffer = new PooledBuffer(1024);
        using var writer = new Utf8JsonWriter(buffer);
        JsonSerializer.Serialize(writer, _chat, WireJson.Default.ChatRequest);
        return buffer.Length;
    }

    [Benchmark(Description = "provider request writer"), BenchmarkCategory("request")]
    public long WriteRequest()
    {
        var context = Context();
        using var request = context.Deployment!.Provider.CreateRequest(context);
        return request.Content?.Headers.ContentLength ?? 0;
    }

    [Benchmark(Baseline = true, Description = "parse the error body once (floor)"), BenchmarkCategory("error")]
    public int ParseErrorOnce()
    {
        using var doc = JsonDocument.Parse(ErrorBodies[Provider]);
        return doc.RootElement.GetPropertyCount();
    }

    [Benchmark(Description = "provider error mapper"), BenchmarkCategory("error")]
    public int MapError()
    {
        var context = Context();
        var error = context.Deployment!.Provider.MapError(context, 429, ErrorBodies[Provider], _headers);
        return (int)error.Kind;
    }
}
