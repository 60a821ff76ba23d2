using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Host;
using LLMux.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace LLMux.Tests.Caching;

/// <summary>A gateway with virtual keys (SQLite in a temp dir) and the response cache on, in front of the OpenAI emulator, on a fake clock.</summary>
internal sealed class CacheGateway : IAsyncDisposable
{
    public const string Master = "sk-master-cache";
    public OpenAIEmulator Upstream { get; private set; } = null!;
    public GatewayHost Host { get; private set; } = null!;
    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private string _dir = null!;

    /// <param name="extraModels">More <c>model_list</c> entries (YAML indented as the list's items), for other upstreams; <c>{upstream}</c> stands for the emulator's API base.</param>
    public static async Task<CacheGateway> StartAsync(string cacheParams = "", string? extraSettings = null, string? extraModels = null)
    {
        var g = new CacheGateway();
        g._dir = Path.Combine(Path.GetTempPath(), "llmux-cache-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(g._dir);
        g.Upstream = await OpenAIEmulator.StartNewAsync();
        var yaml = $"""
            model_list:
              - model_name: gpt-test
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_base: {g.Upstream.ApiBase}
                  api_key: sk-upstream
                  input_cost_per_token: 0.000001
                  output_cost_per_token: 0.000002
              - model_name: embed-test
                litellm_params:
                  model: openai/text-embedding-3-small
                  api_base: {g.Upstream.ApiBase}
                  api_key: sk-upstream
                  input_cost_per_token: 0.000001
            {extraModels?.Replace("{upstream}", g.Upstream.ApiBase, StringComparison.Ordinal)}
            router_settings:
              num_retries: 0
            litellm_settings:
              cache: true
              cache_params:
                ttl: 60
            {(cacheParams.Contains("type:", StringComparison.Ordinal) ? "" : "    type: local")}
            {cacheParams}
            {extraSettings}
            general_settings:
              master_key: {Master}
              database_path: {Path.Combine(g._dir, "llmux.db")}
            """;
        g.Host = await GatewayHost.StartAsync(TestApp.Build(new LlmuxHostOptions { ConfigYaml = yaml, Port = 0, TimeProvider = g.Time }));
        return g;
    }

    /// <summary>A new virtual key (raw value).</summary>
    public async Task<string> NewKeyAsync(string json = "{}")
    {
        using var response = await SendAsync(HttpMethod.Post, "/key/generate", json, Master);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonDocument.Parse(text).RootElement.GetProperty("key").GetString()!;
    }

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? json, string key, string? cacheControl = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (cacheControl is not null) request.Headers.TryAddWithoutValidation("Cache-Control", cacheControl);
        return await Host.Http.SendAsync(request);
    }

    /// <summary>POSTs and reads the whole answer: status, body text, <c>x-llmux-cache</c>, <c>x-litellm-cache-key</c>, <c>x-llmux-response-cost</c>.</summary>
    public async Task<Answer> PostAsync(string path, string json, string key, string? cacheControl = null)
    {
        using var response = await SendAsync(HttpMethod.Post, path, json, key, cacheControl);
        var text = await response.Content.ReadAsStringAsync();
        static string? H(HttpResponseMessage r, string name) => r.Headers.TryGetValues(name, out var v) ? string.Join(",", v) : null;
        return new Answer((int)response.StatusCode, text, H(response, "x-llmux-cache"), H(response, "x-litellm-cache-key"), H(response, "x-llmux-response-cost"), H(response, "x-llmux-cache-items"));
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        await Upstream.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}

internal sealed record Answer(int Status, string Body, string? Cache, string? Key, string? Cost, string? Items);
