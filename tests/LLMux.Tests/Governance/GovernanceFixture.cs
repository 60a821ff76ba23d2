using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Host;
using LLMux.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace LLMux.Tests.Governance;

/// <summary>A gateway with governance on (master key, SQLite file in a temp dir) in front of the OpenAI emulator.</summary>
internal sealed class GovernanceGateway : IAsyncDisposable
{
    public const string Master = "sk-master-1234";
    public OpenAIEmulator Upstream { get; private set; } = null!;
    public GatewayHost Host { get; private set; } = null!;
    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    public string DatabasePath { get; private set; } = null!;
    private string _dir = null!;

    // 1 USD per million tokens in and out, so each emulator call (11 + 7 tokens) costs 0.000018.
    public string Yaml => $"""
        model_list:
          - model_name: gpt-test
            litellm_params:
              model: openai/gpt-4o-mini
              api_base: {Upstream.ApiBase}
              api_key: sk-upstream
              input_cost_per_token: 0.000001
              output_cost_per_token: 0.000001
          - model_name: gpt-other
            litellm_params:
              model: openai/gpt-4o
              api_base: {Upstream.ApiBase}
              api_key: sk-upstream
        {ExtraModels}
        router_settings:
          num_retries: 0
        general_settings:
          master_key: {Master}
          database_path: {DatabasePath}
          redis_namespace: {RedisNamespace}
        {GeneralSettingsExtra}
        """ + ExtraYaml;

    /// <summary>Top-level YAML appended to the config (applies at the next <see cref="RestartAsync"/>).</summary>
    public string ExtraYaml { get; set; } = "";

    /// <summary>More <c>general_settings</c> lines (indented by two spaces), as a test needs them.</summary>
    public string GeneralSettingsExtra { get; private init; } = "";

    /// <summary>Under CI (REDIS_URL set) these gateways use Redis too: each test in its own key namespace.</summary>
    public string RedisNamespace { get; } = "test-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>More <c>model_list</c> entries (YAML at the list's indent), for tests that need another upstream.</summary>
    public string ExtraModels { get; private set; } = "";

    public static async Task<GovernanceGateway> StartAsync(string extraModels = "", string generalSettingsExtra = "")
    {
        var g = new GovernanceGateway { ExtraModels = extraModels, GeneralSettingsExtra = generalSettingsExtra };
        g._dir = Path.Combine(Path.GetTempPath(), "llmux-gov-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(g._dir);
        g.DatabasePath = Path.Combine(g._dir, "llmux.db");
        g.Upstream = await OpenAIEmulator.StartNewAsync();
        await g.StartHostAsync();
        return g;
    }

    /// <summary>Every log line the gateway writes, at every level.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Logs { get; } = new();

    public async Task StartHostAsync() =>
        Host = await GatewayHost.StartAsync(TestApp.Build(new LlmuxHostOptions
        {
            ConfigYaml = Yaml,
            Port = 0,
            TimeProvider = Time,
            ConfigureLogging = l =>
            {
                l.SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Trace);
                l.AddFilter(static _ => true);
                l.AddProvider(new CapturingLoggerProvider(Logs));
            },
        }));

    /// <summary>Stops the gateway (flushing spend, as on SIGTERM) and starts a new one on the same database file.</summary>
    public async Task RestartAsync()
    {
        await Host.DisposeAsync();
        await StartHostAsync();
    }

    public async Task<(int Status, JsonElement Body)> AdminAsync(HttpMethod method, string path, string? json = null, string key = Master)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        using var response = await Host.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    public Task<(int Status, JsonElement Body)> PostAsync(string path, string json, string key = Master) => AdminAsync(HttpMethod.Post, path, json, key);
    public Task<(int Status, JsonElement Body)> GetAsync(string path, string key = Master) => AdminAsync(HttpMethod.Get, path, null, key);

    /// <summary>Generates a key and returns the raw <c>sk-</c> value.</summary>
    public async Task<string> NewKeyAsync(string json = "{}")
    {
        var (status, body) = await PostAsync("/key/generate", json);
        Assert.True(status == 200, body.ToString());
        return body.GetProperty("key").GetString()!;
    }

    /// <summary>A raw chat call with a given header carrying the key.</summary>
    public async Task<HttpResponseMessage> ChatAsync(string key, string model = "gpt-test", string header = "Authorization")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = JsonContent.Create(new { model, messages = new[] { new { role = "user", content = "hi" } } }),
        };
        request.Headers.TryAddWithoutValidation(header, header == "Authorization" ? "Bearer " + key : key);
        return await Host.Http.SendAsync(request);
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        await Upstream.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Keeps every formatted log message (and exception text) in a queue.</summary>
internal sealed class CapturingLoggerProvider(System.Collections.Concurrent.ConcurrentQueue<string> sink) : Microsoft.Extensions.Logging.ILoggerProvider
{
    public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => new Logger(categoryName, sink);
    public void Dispose() { }

    private sealed class Logger(string category, System.Collections.Concurrent.ConcurrentQueue<string> sink) : Microsoft.Extensions.Logging.ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;
        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            sink.Enqueue($"{category}: {formatter(state, exception)} {exception} {state}");
    }
}
