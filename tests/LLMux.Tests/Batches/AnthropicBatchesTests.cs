using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;
using OpenAI;
using OpenAI.Batch;
using OpenAI.Files;

#pragma warning disable OPENAI001 // the SDK marks its Batch client as evaluation-only

namespace LLMux.Tests.Batches;

/// <summary>
/// Batches of an Anthropic model group run by Anthropic's Message Batches API, through the official OpenAI .NET SDK:
/// each line translated by the Anthropic provider, the batch created, polled, its results translated back to OpenAI
/// output lines; errored, canceled and expired requests; a cancel; a restart of the gateway in the middle.
/// </summary>
public sealed class AnthropicBatchesTests : IAsyncLifetime
{
    private string _storage = null!;

    public Task InitializeAsync()
    {
        _storage = Path.Combine(Path.GetTempPath(), "llmux-abatches-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_storage);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        try { Directory.Delete(_storage, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    private string Yaml(string apiBase, string more = "") => $"""
        router_settings:
          num_retries: 0
        model_list:
          - model_name: claude
            litellm_params:
              model: anthropic/claude-sonnet-4-5
              api_base: {apiBase}
              api_key: sk-ant-batch-key
        {more}
        general_settings:
          storage_path: {_storage}
          batch_poll_interval_seconds: 0.05
        """;

    private static OpenAIClient Client(GatewayHost host) =>
        new(new ApiKeyCredential("sk-any"), new OpenAIClientOptions { Endpoint = new Uri(host.Root, "/v1"), RetryPolicy = new ClientRetryPolicy(0) });

    private static string Lines(string model, int count, Func<int, string>? customId = null)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < count; i++)
            sb.Append("{\"custom_id\":").Append(JsonSerializer.Serialize(customId?.Invoke(i) ?? "req-" + i)).Append(",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":")
              .Append($$"""{"model":"{{model}}","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"question {{i}}"}],"max_tokens":20}""").Append("}\n");
        return sb.ToString();
    }

    private static async Task<string> CreateAsync(OpenAIClient client, string input)
    {
        var uploaded = await client.GetOpenAIFileClient().UploadFileAsync(BinaryData.FromString(input), "claude.jsonl", FileUploadPurpose.Batch);
        var op = await client.GetBatchClient().CreateBatchAsync(BinaryContent.Create(BinaryData.FromString(
            $$"""{"input_file_id":"{{uploaded.Value.Id}}","endpoint":"/v1/chat/completions","completion_window":"24h"}""")), waitUntilCompleted: false);
        return JsonDocument.Parse(op.GetRawResponse().Content.ToString()).RootElement.GetProperty("id").GetString()!;
    }

    private static async Task<JsonElement> GetAsync(HttpClient http, string id)
    {
        using var response = await http.GetAsync("/v1/batches/" + id);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    /// <summary>Polls until the batch is in one of <paramref name="states"/> (bounded: 60 s).</summary>
    private static async Task<JsonElement> WaitAsync(HttpClient http, string id, params string[] states)
    {
        var until = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var batch = await GetAsync(http, id);
            if (states.Contains(batch.GetProperty("status").GetString())) return batch;
            if (DateTime.UtcNow > until) Assert.Fail($"batch {id} is still {batch}");
            await Task.Delay(50);
        }
    }

    private static async Task<string[]> DownloadAsync(OpenAIClient client, JsonElement batch, string property) =>
        batch.GetProperty(property).GetString() is { } id
            ? (await client.GetOpenAIFileClient().DownloadFileAsync(id)).Value.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            : [];

    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < until, what);
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task A_1000_line_batch_runs_at_Anthropic_translated_both_ways_with_LLMux_ids()
    {
        await using var anthropic = await AnthropicBatchesEmulator.StartNewAsync();
        await using var interactive = await AnthropicEmulator.StartNewAsync();
        await using var host = await GatewayHost.StartAsync(Yaml(anthropic.ApiBase, $"""
              - model_name: claude-gateway
                litellm_params:
                  model: anthropic/claude-sonnet-4-5
                  api_base: {interactive.ApiBase}
                  api_key: sk-ant-batch-key
                  batch_api: gateway
            """));
        var client = Client(host);
        // Line 8's custom_id is one Anthropic refuses (spaces): it is sent as another and mapped back.
        var id = await CreateAsync(client, Lines("claude", 1000, static i => i == 7 ? "eval row 7 (retry)" : "req-" + i));
        var done = await WaitAsync(host.Http, id, "completed", "failed");
        Assert.True(done.GetProperty("status").GetString() == "completed", done.ToString());
        Assert.Equal(1000, done.GetProperty("request_counts").GetProperty("total").GetInt64());
        Assert.Equal(1000, done.GetProperty("request_counts").GetProperty("completed").GetInt64());
        Assert.Equal(0, done.GetProperty("request_counts").GetProperty("failed").GetInt64());

        // One Message Batch at Anthropic, each line a Messages request written by the Anthropic provider.
        var remote = Assert.Single(anthropic.Batches.Values);
        Assert.Equal(1000, remote.Requests.Count);
        Assert.Equal("sk-ant-batch-key", remote.CreateHeaders["x-api-key"]);
        Assert.Equal("2023-06-01", remote.CreateHeaders["anthropic-version"]);
        Assert.DoesNotContain(anthropic.Requests, static r => r.Path == "/v1/messages");
        Assert.Equal("llmux-line-8", remote.Requests[7].CustomId);
        using (var first = JsonDocument.Parse(remote.Requests[0].Params))
        {
            var p = first.RootElement;
            Assert.Equal("claude-sonnet-4-5", p.GetProperty("model").GetString());
            Assert.Equal(20, p.GetProperty("max_tokens").GetInt32());
            Assert.Equal("Be brief.", p.GetProperty("system").ValueKind == JsonValueKind.String ? p.GetProperty("system").GetString() : p.GetProperty("system")[0].GetProperty("text").GetString());
            var message = Assert.Single(p.GetProperty("messages").EnumerateArray());
            Assert.Equal("user", message.GetProperty("role").GetString());
            Assert.False(p.TryGetProperty("stream", out _));
        }

        // OpenAI output lines, one per request, with the client's custom_ids and the provider's chat completion.
        Assert.DoesNotContain("msgbatch", id, StringComparison.Ordinal);
        var output = await DownloadAsync(client, done, "output_file_id");
        Assert.Equal(1000, output.Length);
        var ids = new HashSet<string>();
        foreach (var line in output)
        {
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            Assert.StartsWith("batch_req_", r.GetProperty("id").GetString(), StringComparison.Ordinal);
            Assert.True(ids.Add(r.GetProperty("custom_id").GetString()!));
            var response = r.GetProperty("response");
            Assert.Equal(200, response.GetProperty("status_code").GetInt32());
            var body = response.GetProperty("body");
            Assert.Equal("chat.completion", body.GetProperty("object").GetString());
            Assert.StartsWith("msg_01emubatch", body.GetProperty("id").GetString(), StringComparison.Ordinal);
            Assert.Equal("Hello from the Anthropic batch emulator.", body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
            Assert.Equal("stop", body.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
            Assert.Equal(47, body.GetProperty("usage").GetProperty("total_tokens").GetInt32());
            Assert.Equal(JsonValueKind.Null, r.GetProperty("error").ValueKind);
        }
        Assert.Equal(Enumerable.Range(0, 1000).Select(static i => i == 7 ? "eval row 7 (retry)" : "req-" + i).ToHashSet(), ids);
        Assert.Empty(await DownloadAsync(client, done, "error_file_id"));

        // batch_api: gateway keeps an Anthropic group's batch on the gateway's runner (interactive calls).
        var viaGateway = await WaitAsync(host.Http, await CreateAsync(client, Lines("claude-gateway", 3)), "completed", "failed");
        Assert.Equal(3, viaGateway.GetProperty("request_counts").GetProperty("completed").GetInt64());
        Assert.Equal(3, interactive.Requests.Count(static r => r.Path == "/v1/messages"));
        Assert.Single(anthropic.Batches);
    }

    [Fact]
    public async Task Errored_requests_get_the_status_of_their_error_type_and_lines_that_cannot_be_sent_never_leave()
    {
        await using var anthropic = await AnthropicBatchesEmulator.StartNewAsync();
        anthropic.ErrorTypes["req-1"] = "overloaded_error";
        anthropic.ErrorTypes["req-2"] = "rate_limit_error";
        anthropic.ErrorTypes["req-3"] = "api_error";
        anthropic.ErrorTypes["req-4"] = "invalid_request_error";
        await using var host = await GatewayHost.StartAsync(Yaml(anthropic.ApiBase));
        var client = Client(host);
        var input = Lines("claude", 6)
                    + "this is not json\n"
                    + """{"custom_id":"streamed","method":"POST","url":"/v1/chat/completions","body":{"model":"claude","stream":true,"messages":[{"role":"user","content":"hi"}]}}""" + "\n"
                    + """{"custom_id":"no-messages","method":"POST","url":"/v1/chat/completions","body":{"model":"claude","max_tokens":5}}""" + "\n";
        var id = await CreateAsync(client, input);
        var done = await WaitAsync(host.Http, id, "completed", "failed");
        Assert.True(done.GetProperty("status").GetString() == "completed", done.ToString());
        Assert.Equal(9, done.GetProperty("request_counts").GetProperty("total").GetInt64());
        Assert.Equal(2, done.GetProperty("request_counts").GetProperty("completed").GetInt64());
        Assert.Equal(7, done.GetProperty("request_counts").GetProperty("failed").GetInt64());
        // Only the six lines that translate reached Anthropic.
        Assert.Equal(6, Assert.Single(anthropic.Batches.Values).Requests.Count);

        var errors = (await DownloadAsync(client, done, "error_file_id")).Select(static l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        Assert.Equal(7, errors.Count);
        JsonElement For(string customId) => errors.Single(e => e.GetProperty("custom_id").ValueKind == JsonValueKind.String && e.GetProperty("custom_id").GetString() == customId);
        foreach (var (customId, status, type) in new[] { ("req-1", 503, "overloaded_error"), ("req-2", 429, "rate_limit_error"), ("req-3", 500, "api_error"), ("req-4", 400, "invalid_request_error") })
        {
            var e = For(customId);
            Assert.Equal(status, e.GetProperty("response").GetProperty("status_code").GetInt32());
            var body = e.GetProperty("response").GetProperty("body").GetProperty("error");
            Assert.StartsWith("anthropic:", body.GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.Equal(type, e.GetProperty("error").GetProperty("code").GetString());
        }
        Assert.Contains("stream", For("streamed").GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(400, For("no-messages").GetProperty("response").GetProperty("status_code").GetInt32());
        Assert.Contains("messages", For("no-messages").GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains(errors, static e => e.GetProperty("custom_id").ValueKind == JsonValueKind.Null && e.GetProperty("line").GetInt64() == 7);
    }

    [Fact]
    public async Task An_expired_Anthropic_batch_ends_expired_with_its_unprocessed_requests_as_batch_expired_lines()
    {
        await using var anthropic = await AnthropicBatchesEmulator.StartNewAsync();
        anthropic.PollsToEnd = 100_000;
        await using var host = await GatewayHost.StartAsync(Yaml(anthropic.ApiBase));
        var client = Client(host);
        var id = await CreateAsync(client, Lines("claude", 8));
        await UntilAsync(() => anthropic.Batches.Values.FirstOrDefault() is { } b && b.Requests.Any(static r => r.Outcome == "succeeded"), "Anthropic processed nothing");
        anthropic.Expire(anthropic.Batches.Keys.Single());
        var done = await WaitAsync(host.Http, id, "expired", "completed", "failed");
        Assert.Equal("expired", done.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Number, done.GetProperty("expired_at").ValueKind);
        var output = await DownloadAsync(client, done, "output_file_id");
        var errors = await DownloadAsync(client, done, "error_file_id");
        Assert.InRange(output.Length, 1, 7);
        Assert.Equal(8, output.Length + errors.Length);
        Assert.All(errors, static e =>
        {
            var r = JsonDocument.Parse(e).RootElement;
            Assert.Equal(JsonValueKind.Null, r.GetProperty("response").ValueKind);
            Assert.Equal("batch_expired", r.GetProperty("error").GetProperty("code").GetString());
        });
    }

    [Fact]
    public async Task Cancelling_cancels_the_Message_Batch_and_keeps_what_Anthropic_finished()
    {
        await using var anthropic = await AnthropicBatchesEmulator.StartNewAsync();
        anthropic.PollsToEnd = 100_000;
        await using var host = await GatewayHost.StartAsync(Yaml(anthropic.ApiBase));
        var client = Client(host);
        var id = await CreateAsync(client, Lines("claude", 20));
        await UntilAsync(() => anthropic.Batches.Values.FirstOrDefault() is { } b && b.Requests.Count(static r => r.Outcome == "succeeded") >= 2, "Anthropic processed nothing");
        using (var cancel = await host.Http.PostAsync($"/v1/batches/{id}/cancel", null))
        {
            Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
            Assert.Contains(JsonDocument.Parse(await cancel.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString(), new[] { "cancelling", "cancelled" });
        }
        var done = await WaitAsync(host.Http, id, "cancelled");
        Assert.Equal(JsonValueKind.Number, done.GetProperty("cancelled_at").ValueKind);
        var remote = anthropic.Batches.Values.Single();
        Assert.Equal("ended", remote.ProcessingStatus);
        Assert.NotNull(remote.CancelInitiatedAt);
        Assert.Contains(anthropic.Requests, r => r.Method == "POST" && r.Path == $"/v1/messages/batches/{remote.Id}/cancel");

        var succeeded = remote.Requests.Count(static r => r.Outcome == "succeeded");
        var output = await DownloadAsync(client, done, "output_file_id");
        var errors = await DownloadAsync(client, done, "error_file_id");
        Assert.Equal(succeeded, output.Length);
        Assert.Equal(20 - succeeded, errors.Length);
        Assert.All(errors, static e => Assert.Equal("batch_cancelled", JsonDocument.Parse(e).RootElement.GetProperty("error").GetProperty("code").GetString()));
        Assert.Equal(succeeded, done.GetProperty("request_counts").GetProperty("completed").GetInt64());
        Assert.Equal(20 - succeeded, done.GetProperty("request_counts").GetProperty("failed").GetInt64());
    }

    [Fact]
    public async Task A_restart_in_the_middle_polls_the_same_Message_Batch()
    {
        await using var anthropic = await AnthropicBatchesEmulator.StartNewAsync();
        anthropic.PollsToEnd = 100_000;
        var yaml = Yaml(anthropic.ApiBase);
        string id;
        await using (var first = await GatewayHost.StartAsync(yaml))
        {
            id = await CreateAsync(Client(first), Lines("claude", 30));
            await UntilAsync(() => anthropic.Batches.Values.FirstOrDefault() is { Polls: >= 2 }, "the gateway never polled its batch");
            Assert.Equal("in_progress", (await GetAsync(first.Http, id)).GetProperty("status").GetString());
        }
        var remote = Assert.Single(anthropic.Batches.Values);
        var pollsBefore = remote.Polls;
        anthropic.PollsToEnd = pollsBefore + 2;

        await using var second = await GatewayHost.StartAsync(yaml);
        var done = await WaitAsync(second.Http, id, "completed", "failed");
        Assert.True(done.GetProperty("status").GetString() == "completed", done.ToString());
        // The same batch was polled again: nothing was created or sent twice.
        Assert.Single(anthropic.Batches);
        Assert.Single(anthropic.Requests, static r => r.Method == "POST" && r.Path == "/v1/messages/batches");
        Assert.True(remote.Polls > pollsBefore);
        var output = await DownloadAsync(Client(second), done, "output_file_id");
        Assert.Equal(Enumerable.Range(0, 30).Select(static i => "req-" + i).ToHashSet(), output.Select(static l => JsonDocument.Parse(l).RootElement.GetProperty("custom_id").GetString()!).ToHashSet());
        Assert.Equal(30, output.Length);
    }
}
