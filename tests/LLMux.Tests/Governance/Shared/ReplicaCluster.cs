using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Governance;
using LLMux.Host;
using LLMux.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace LLMux.Tests.Governance.Shared;

/// <summary>
/// Three gateways, each with its own service provider, sharing one PostgreSQL database and one Redis (a key
/// namespace of their own) in front of the OpenAI emulator: what three replicas behind a load balancer see.
/// </summary>
internal sealed class ReplicaCluster : IAsyncDisposable
{
    public const string Master = "sk-master-replicas";
    public OpenAIEmulator Upstream { get; private set; } = null!;
    public TestDatabase Database { get; private set; } = null!;
    public GatewayHost[] Replicas { get; private set; } = [];
    public Microsoft.AspNetCore.Builder.WebApplication[] Apps { get; private set; } = [];
    public string Namespace { get; } = "replicas-" + Guid.NewGuid().ToString("N")[..12];
    /// <summary>The forwarder the gateways reach PostgreSQL through (closed to simulate an outage).</summary>
    public TcpGate Gate { get; private set; } = null!;
    private int _next;

    public string Yaml(string? redisHost = null, int? redisPort = null)
    {
        var redis = new Uri(TestServices.RedisUrl);
        var db = new NpgsqlConnectionStringBuilder(Database.ConnectionString);
        var url = $"postgresql://{db.Username}@127.0.0.1:{Gate.Port}/{Database.Name}";
        return $"""
            model_list:
              - model_name: gpt-test
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_base: {Upstream.ApiBase}
                  api_key: sk-upstream
                  input_cost_per_token: 0.000001
                  output_cost_per_token: 0.000001
            router_settings:
              num_retries: 0
              redis_host: {redisHost ?? redis.Host}
              redis_port: {redisPort ?? redis.Port}
            general_settings:
              master_key: {Master}
              database_url: {url}
              redis_namespace: {Namespace}
            """;
    }

    public static async Task<ReplicaCluster> StartAsync(int count = 3, string? redisHost = null, int? redisPort = null)
    {
        var c = new ReplicaCluster();
        _ = TestServices.RedisUrl;
        c.Database = await TestServices.NewDatabaseAsync();
        var db = new NpgsqlConnectionStringBuilder(c.Database.ConnectionString);
        c.Gate = new TcpGate(db.Host!, db.Port);
        c.Upstream = await OpenAIEmulator.StartNewAsync();
        var yaml = c._yaml = c.Yaml(redisHost, redisPort);
        // Started at once, as replicas of one deployment are: migrations must cope.
        c.Apps = Enumerable.Range(0, count).Select(_ => TestApp.Build(new LlmuxHostOptions { ConfigYaml = yaml, Port = 0 })).ToArray();
        c.Replicas = await Task.WhenAll(c.Apps.Select(GatewayHost.StartAsync));
        return c;
    }

    private string _yaml = "";

    /// <summary>Starts one more replica on the same database and Redis (a restart, or scaling out); returns its index.</summary>
    public async Task<int> AddReplicaAsync()
    {
        var app = TestApp.Build(new LlmuxHostOptions { ConfigYaml = _yaml, Port = 0 });
        var host = await GatewayHost.StartAsync(app);
        Apps = [.. Apps, app];
        Replicas = [.. Replicas, host];
        return Replicas.Length - 1;
    }

    public GovernanceService Governance(int replica) => Apps[replica].Services.GetRequiredService<GovernanceService>();

    /// <summary>The next replica, round robin.</summary>
    public GatewayHost Next() => Replicas[Interlocked.Increment(ref _next) % Replicas.Length];

    public async Task<JsonElement> AdminAsync(int replica, string path, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Master);
        using var response = await Replicas[replica].Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public async Task<string> NewKeyAsync(string json) => (await AdminAsync(0, "/key/generate", json)).GetProperty("key").GetString()!;

    public async Task<JsonElement> GetAsync(int replica, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Master);
        using var response = await Replicas[replica].Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static async Task<HttpResponseMessage> ChatAsync(GatewayHost replica, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = JsonContent.Create(new { model = "gpt-test", messages = new[] { new { role = "user", content = "hi" } } }),
        };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        return await replica.Http.SendAsync(request);
    }

    /// <summary>Spend rows in the shared database for a key (by its hash).</summary>
    public async Task<long> SpendRowsAsync(string rawKey)
    {
        await using var c = new NpgsqlConnection(Database.ConnectionString);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand("""SELECT COUNT(*) FROM "LiteLLM_SpendLogs" WHERE api_key = $1""", c);
        cmd.Parameters.Add(new NpgsqlParameter { Value = LLMux.Governance.Keys.VirtualKeys.Hash(rawKey) });
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    private readonly HashSet<int> _stopped = [];

    /// <summary>Stops one replica as SIGTERM does (the host's graceful stop: queued spend is flushed).</summary>
    public async Task StopAsync(int replica)
    {
        _stopped.Add(replica);
        await Replicas[replica].DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = 0; i < Replicas.Length; i++)
            if (!_stopped.Contains(i)) await Replicas[i].DisposeAsync();
        await Gate.DisposeAsync();
        await Upstream.DisposeAsync();
        await Database.DisposeAsync();
    }
}
