using System.ClientModel;
using System.ClientModel.Primitives;
using System.Globalization;
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
/// Issue 21's "done when": 1,000-line batches through the API — natively at OpenAI and Anthropic, run by the gateway
/// onto Gemini and Bedrock — surviving a host restart in the middle (gateway-run: no line sent twice, counted at the
/// emulator), a cancel, and output files that match OpenAI's batch output line shape field by field. Also: the
/// /v1/responses and /v1/completions endpoints, a per-line error for an endpoint the provider lacks, native batches'
/// spend on the key that created them at the batch price, and the official <c>openai</c> npm client's life cycle.
/// </summary>
public sealed class BatchesDoneWhenTests : IAsyncLifetime
{
    private string _storage = null!;

    public Task InitializeAsync()
    {
        _storage = Path.Combine(Path.GetTempPath(), "llmux-batches-done-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_storage);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        try { Directory.Delete(_storage, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    private string Yaml(string modelList, string extra = "") => $"""
        router_settings:
          num_retries: 0
        model_list:
        {modelList}
        general_settings:
          storage_path: {_storage}
          batch_poll_interval_seconds: 0.05
        {extra}
        """;

    private static OpenAIClient Client(GatewayHost host, string key = "sk-any") =>
        new(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(host.Root, "/v1"), RetryPolicy = new ClientRetryPolicy(0) });

    private static string ChatLines(string model, int count)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < count; i++)
            sb.Append("{\"custom_id\":\"req-").Append(i).Append("\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":")
              .Append($$"""{"model":"{{model}}","messages":[{"role":"user","content":"question {{i}}"}],"max_tokens":20}""").Append("}\n");
        return sb.ToString();
    }

    private static async Task<string> CreateAsync(OpenAIClient client, string input, string endpoint = "/v1/chat/completions")
    {
        var uploaded = await client.GetOpenAIFileClient().UploadFileAsync(BinaryData.FromString(input), "input.jsonl", FileUploadPurpose.Batch);
        var op = await client.GetBatchClient().CreateBatchAsync(BinaryContent.Create(BinaryData.FromString(
            $$"""{"input_file_id":"{{uploaded.Value.Id}}","endpoint":"{{endpoint}}","completion_window":"24h"}""")), waitUntilCompleted: false);
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

    private static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < until, what);
            await Task.Delay(20);
        }
    }

    private static async Task<string[]> DownloadAsync(OpenAIClient client, JsonElement batch, string property) =>
        batch.GetProperty(property).GetString() is { } id
            ? (await client.GetOpenAIFileClient().DownloadFileAsync(id)).Value.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            : [];

    private static string[] Names(JsonElement e) => e.EnumerateObject().Select(static p => p.Name).ToArray();

    /// <summary>
    /// OpenAI's documented batch output line, field by field: exactly <c>id</c> (<c>batch_req_…</c>), <c>custom_id</c>,
    /// <c>response</c> {exactly <c>status_code</c> 200, <c>request_id</c> string, <c>body</c>: the endpoint's answer object},
    /// <c>error</c> null. Returns the body.
    /// </summary>
    internal static JsonElement AssertOutputLine(string line, string bodyObject)
    {
        using var doc = JsonDocument.Parse(line);
        var r = doc.RootElement;
        Assert.Equal(["id", "custom_id", "response", "error"], Names(r));
        Assert.StartsWith("batch_req_", r.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.String, r.GetProperty("custom_id").ValueKind);
        Assert.Equal(JsonValueKind.Null, r.GetProperty("error").ValueKind);
        var response = r.GetProperty("response");
        Assert.Equal(["status_code", "request_id", "body"], Names(response));
        Assert.Equal(200, response.GetProperty("status_code").GetInt32());
        Assert.False(string.IsNullOrEmpty(response.GetProperty("request_id").GetString()));
        var body = response.GetProperty("body");
        Assert.Equal(bodyObject, body.GetProperty("object").GetString());
        Assert.Equal(JsonValueKind.String, body.GetProperty("id").ValueKind);
        Assert.Equal(JsonValueKind.Object, body.GetProperty("usage").ValueKind);
        if (bodyObject == "chat.completion")
        {
            var choice = body.GetProperty("choices")[0];
            Assert.Equal(0, choice.GetProperty("index").GetInt32());
            Assert.Equal("assistant", choice.GetProperty("message").GetProperty("role").GetString());
            Assert.Equal(JsonValueKind.String, choice.GetProperty("message").GetProperty("content").ValueKind);
            Assert.Equal(JsonValueKind.String, choice.GetProperty("finish_reason").ValueKind);
            Assert.Equal(JsonValueKind.Number, body.GetProperty("created").ValueKind);
            Assert.Equal(JsonValueKind.String, body.GetProperty("model").ValueKind);
            var usage = body.GetProperty("usage");
            Assert.Equal(usage.GetProperty("prompt_tokens").GetInt64() + usage.GetProperty("completion_tokens").GetInt64(), usage.GetProperty("total_tokens").GetInt64());
        }
        return body.Clone();
    }

    private static void AssertEveryLine(string[] output, int count, string bodyObject)
    {
        Assert.Equal(count, output.Length);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in output)
        {
            AssertOutputLine(line, bodyObject);
            Assert.True(ids.Add(JsonDocument.Parse(line).RootElement.GetProperty("custom_id").GetString()!), "a custom_id appears twice: " + line);
        }
        Assert.Equal(Enumerable.Range(0, count).Select(static i => "req-" + i).ToHashSet(), ids);
    }

    [Fact]
    public async Task A_1000_line_batch_onto_Gemini_survives_a_restart_without_sending_a_line_twice_and_matches_OpenAIs_output_format()
    {
        await using var gemini = await GeminiEmulator.StartNewAsync();
        gemini.Default = new GeminiScript { HeaderDelay = TimeSpan.FromMilliseconds(15) };
        var yaml = Yaml($"""
              - model_name: flash
                litellm_params:
                  model: gemini/gemini-2.5-flash
                  api_base: {gemini.GeminiApiBase}
                  api_key: gemini-test-key
            """, "  batch_parallelism: 8");
        string id;
        await using (var first = await GatewayHost.StartAsync(yaml))
        {
            id = await CreateAsync(Client(first), ChatLines("flash", 1000));
            await UntilAsync(async () => (await GetAsync(first.Http, id)).GetProperty("request_counts").GetProperty("completed").GetInt64() >= 150, "the batch made no progress");
        }
        var sentBefore = gemini.ModelRequests.Count();
        Assert.InRange(sentBefore, 150, 999);

        await using var second = await GatewayHost.StartAsync(yaml);
        var resumed = await GetAsync(second.Http, id);
        Assert.Equal("in_progress", resumed.GetProperty("status").GetString());
        Assert.Equal(sentBefore, resumed.GetProperty("request_counts").GetProperty("completed").GetInt64());
        var done = await WaitAsync(second.Http, id, "completed", "failed");
        Assert.True(done.GetProperty("status").GetString() == "completed", done.ToString());
        Assert.Equal(1000, done.GetProperty("request_counts").GetProperty("total").GetInt64());
        Assert.Equal(1000, done.GetProperty("request_counts").GetProperty("completed").GetInt64());
        Assert.Equal(0, done.GetProperty("request_counts").GetProperty("failed").GetInt64());
        Assert.Equal(JsonValueKind.Null, done.GetProperty("error_file_id").ValueKind);
        // Every line sent exactly once, across both hosts.
        Assert.Equal(1000, gemini.ModelRequests.Count());

        var output = await DownloadAsync(Client(second), done, "output_file_id");
        AssertEveryLine(output, 1000, "chat.completion");
        Assert.All(output, static l => Assert.Equal("Hello from Gemini.", JsonDocument.Parse(l).RootElement.GetProperty("response").GetProperty("body").GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()));
    }

    [Fact]
    public async Task A_1000_line_batch_at_OpenAI_natively_survives_a_restart_polling_the_same_provider_batch()
    {
        await using var upstream = await OpenAIEmulator.StartNewAsync();
        upstream.FilesAndBatches.PollsToComplete = 100_000;
        var yaml = Yaml($"""
              - model_name: gpt-batch
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_base: {upstream.ApiBase}
                  api_key: sk-upstream
                  batch_api: native
            """);
        string id;
        await using (var first = await GatewayHost.StartAsync(yaml))
        {
            id = await CreateAsync(Client(first), ChatLines("gpt-batch", 1000));
            await UntilAsync(() => Task.FromResult(upstream.FilesAndBatches.Batches.Values.FirstOrDefault() is { Status: "in_progress" }), "the batch never started at OpenAI");
        }
        upstream.FilesAndBatches.PollsToComplete = 0;
        await using var second = await GatewayHost.StartAsync(yaml);
        var done = await WaitAsync(second.Http, id, "completed", "failed");
        Assert.True(done.GetProperty("status").GetString() == "completed", done.ToString());
        Assert.Equal(1000, done.GetProperty("request_counts").GetProperty("completed").GetInt64());
        // One upload and one provider batch: the restart polled the batch the first host created.
        Assert.Single(upstream.FilesAndBatches.Batches);
        Assert.Single(upstream.FilesAndBatches.Files.Values, static f => f.Purpose == "batch");
        AssertEveryLine(await DownloadAsync(Client(second), done, "output_file_id"), 1000, "chat.completion");
    }

    [Fact]
    public async Task A_1000_line_batch_at_Anthropic_natively_comes_back_in_OpenAIs_output_format()
    {
        await using var anthropic = await AnthropicBatchesEmulator.StartNewAsync();
        await using var host = await GatewayHost.StartAsync(Yaml($"""
              - model_name: claude
                litellm_params:
                  model: anthropic/claude-sonnet-4-5
                  api_base: {anthropic.ApiBase}
                  api_key: sk-ant-batch-key
            """));
        var id = await CreateAsync(Client(host), ChatLines("claude", 1000));
        var done = await WaitAsync(host.Http, id, "completed", "failed");
        Assert.True(done.GetProperty("status").GetString() == "completed", done.ToString());
        Assert.Equal(1000, done.GetProperty("request_counts").GetProperty("completed").GetInt64());
        Assert.Single(anthropic.Batches);
        AssertEveryLine(await DownloadAsync(Client(host), done, "output_file_id"), 1000, "chat.completion");
    }

    [Fact]
    public async Task A_batch_onto_Bedrock_runs_on_the_gateway_and_a_cancel_keeps_what_finished()
    {
        await using var bedrock = await BedrockEmulator.StartNewAsync();
        await using var host = await GatewayHost.StartAsync(Yaml($"""
              - model_name: bedrock
                litellm_params:
                  model: bedrock/converse/anthropic.claude-3-7-sonnet-20250219-v1:0
                  api_base: {bedrock.ApiBase}
                  aws_access_key_id: {BedrockEmulator.AccessKeyId}
                  aws_secret_access_key: {BedrockEmulator.SecretAccessKey}
                  aws_region_name: {BedrockEmulator.Region}
            """, "  batch_parallelism: 4"));
        var client = Client(host);
        var id = await CreateAsync(client, ChatLines("bedrock", 200));
        var done = await WaitAsync(host.Http, id, "completed", "failed");
        Assert.True(done.GetProperty("status").GetString() == "completed", done.ToString());
        AssertEveryLine(await DownloadAsync(client, done, "output_file_id"), 200, "chat.completion");
        Assert.Equal(200, bedrock.Requests.Count(static r => r.Path.Contains("/converse", StringComparison.Ordinal)));

        // A second batch, cancelled while it runs: cancelling, then cancelled with what had finished.
        var slow = await CreateAsync(client, ChatLines("bedrock", 1000));
        await UntilAsync(async () => (await GetAsync(host.Http, slow)).GetProperty("request_counts").GetProperty("completed").GetInt64() >= 10, "the batch made no progress");
        using (var cancel = await host.Http.PostAsync($"/v1/batches/{slow}/cancel", null))
        {
            Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
            Assert.Contains(JsonDocument.Parse(await cancel.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString(), new[] { "cancelling", "cancelled" });
        }
        var cancelled = await WaitAsync(host.Http, slow, "cancelled");
        var completed = cancelled.GetProperty("request_counts").GetProperty("completed").GetInt64();
        Assert.InRange(completed, 10, 999);
        var kept = await DownloadAsync(client, cancelled, "output_file_id");
        Assert.Equal(completed, kept.Length);
        Assert.All(kept, static l => AssertOutputLine(l, "chat.completion"));
        // The calls in flight finished and were written: every call sent is in the output.
        Assert.Equal(200 + completed, bedrock.Requests.Count(static r => r.Path.Contains("/converse", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Responses_and_completions_batches_run_through_their_endpoints_and_an_endpoint_the_provider_lacks_fails_per_line()
    {
        await using var gemini = await GeminiEmulator.StartNewAsync();
        await using var anthropic = await AnthropicEmulator.StartNewAsync();
        await using var host = await GatewayHost.StartAsync(Yaml($"""
              - model_name: flash
                litellm_params:
                  model: gemini/gemini-2.5-flash
                  api_base: {gemini.GeminiApiBase}
                  api_key: gemini-test-key
              - model_name: claude
                litellm_params:
                  model: anthropic/claude-sonnet-4-5
                  api_base: {anthropic.ApiBase}
                  api_key: sk-ant-test
            """));
        var client = Client(host);
        string Lines(string url, Func<int, string> body) => string.Concat(Enumerable.Range(0, 5).Select(i => $$"""{"custom_id":"req-{{i}}","method":"POST","url":"{{url}}","body":{{body(i)}}}""" + "\n"));

        var responses = await WaitAsync(host.Http, await CreateAsync(client, Lines("/v1/responses", static i => $$"""{"model":"flash","input":"question {{i}}","max_output_tokens":50}"""), "/v1/responses"), "completed", "failed");
        Assert.Equal(5, responses.GetProperty("request_counts").GetProperty("completed").GetInt64());
        var responseLines = await DownloadAsync(client, responses, "output_file_id");
        Assert.Equal(5, responseLines.Length);
        foreach (var line in responseLines)
        {
            var body = AssertOutputLine(line, "response");
            Assert.StartsWith("resp_", body.GetProperty("id").GetString(), StringComparison.Ordinal);
            Assert.Equal("completed", body.GetProperty("status").GetString());
            Assert.Equal("Hello from Gemini.", body.GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString());
        }

        var completions = await WaitAsync(host.Http, await CreateAsync(client, Lines("/v1/completions", static i => $$"""{"model":"flash","prompt":"Say hi {{i}}","max_tokens":20}"""), "/v1/completions"), "completed", "failed");
        Assert.Equal(5, completions.GetProperty("request_counts").GetProperty("completed").GetInt64());
        foreach (var line in await DownloadAsync(client, completions, "output_file_id"))
        {
            var body = AssertOutputLine(line, "text_completion");
            Assert.Equal("Hello from Gemini.", body.GetProperty("choices")[0].GetProperty("text").GetString());
        }
        Assert.Equal(10, gemini.ModelRequests.Count());

        // Anthropic has no embeddings: each line gets the gateway's own 400, nothing is sent upstream.
        var embeddings = await WaitAsync(host.Http, await CreateAsync(client, Lines("/v1/embeddings", static i => $$"""{"model":"claude","input":"text {{i}}"}"""), "/v1/embeddings"), "completed", "failed");
        Assert.Equal("completed", embeddings.GetProperty("status").GetString());
        Assert.Equal(5, embeddings.GetProperty("request_counts").GetProperty("failed").GetInt64());
        Assert.Equal(JsonValueKind.Null, embeddings.GetProperty("output_file_id").ValueKind);
        foreach (var line in await DownloadAsync(client, embeddings, "error_file_id"))
        {
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            Assert.Equal(400, r.GetProperty("response").GetProperty("status_code").GetInt32());
            Assert.Contains("embedding", r.GetProperty("error").GetProperty("message").GetString(), StringComparison.OrdinalIgnoreCase);
        }
        Assert.Empty(anthropic.Requests);

        // A stream or background line is refused on its own line, not run.
        var bad = await WaitAsync(host.Http, await CreateAsync(client, Lines("/v1/responses", static i => i == 0
            ? """{"model":"flash","input":"x","background":true}""" : i == 1 ? """{"model":"flash","input":"x","stream":true}""" : """{"model":"flash","input":"x"}"""), "/v1/responses"), "completed", "failed");
        Assert.Equal(3, bad.GetProperty("request_counts").GetProperty("completed").GetInt64());
        var refused = await DownloadAsync(client, bad, "error_file_id");
        Assert.Contains(refused, static l => l.Contains("\"custom_id\":\"req-0\"", StringComparison.Ordinal) && l.Contains("background", StringComparison.Ordinal));
        Assert.Contains(refused, static l => l.Contains("\"custom_id\":\"req-1\"", StringComparison.Ordinal) && l.Contains("stream", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Native_batches_charge_each_line_to_the_key_that_created_them_at_the_batch_price()
    {
        const string master = "sk-master-batches";
        await using var upstream = await OpenAIEmulator.StartNewAsync();
        await using var anthropic = await AnthropicBatchesEmulator.StartNewAsync();
        await using var host = await GatewayHost.StartAsync(Yaml($"""
              - model_name: gpt-batch
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_base: {upstream.ApiBase}
                  api_key: sk-upstream
                  batch_api: native
              - model_name: claude
                litellm_params:
                  model: anthropic/claude-sonnet-4-5
                  api_base: {anthropic.ApiBase}
                  api_key: sk-ant-batch-key
            """, $"""
              master_key: {master}
              database_path: {Path.Combine(_storage, "gov.db")}
            """));
        using var admin = new HttpClient { BaseAddress = host.Root };
        admin.DefaultRequestHeaders.Authorization = new("Bearer", master);
        using var generated = await admin.PostAsync("/key/generate", new StringContent("""{"key_alias":"carol"}""", Encoding.UTF8, "application/json"));
        var key = JsonDocument.Parse(await generated.Content.ReadAsStringAsync()).RootElement.GetProperty("key").GetString()!;
        var client = Client(host, key);
        using var asCarol = new HttpClient { BaseAddress = host.Root };
        asCarol.DefaultRequestHeaders.Authorization = new("Bearer", key);

        var openai = await WaitAsync(asCarol, await CreateAsync(client, ChatLines("gpt-batch", 4)), "completed", "failed");
        var claude = await WaitAsync(asCarol, await CreateAsync(client, ChatLines("claude", 3)), "completed", "failed");
        Assert.Equal(4, openai.GetProperty("request_counts").GetProperty("completed").GetInt64());
        Assert.Equal(3, claude.GetProperty("request_counts").GetProperty("completed").GetInt64());

        JsonElement logs = default;
        await UntilAsync(async () =>
        {
            using var r = await admin.GetAsync("/spend/logs?api_key=" + key);
            logs = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.Clone();
            return logs.ValueKind == JsonValueKind.Array && logs.GetArrayLength() >= 7;
        }, "the native batches' spend rows were not written");
        Assert.Equal(7, logs.GetArrayLength());

        // gpt-4o-mini has batch prices in the table (0.075 / 0.30 USD per million); claude-sonnet-4-5 has none: half of 3 / 15.
        void Check(JsonElement batch, string[] output, string model, decimal input, decimal outputPrice)
        {
            foreach (var line in output)
            {
                using var doc = JsonDocument.Parse(line);
                var customId = doc.RootElement.GetProperty("custom_id").GetString();
                var usage = doc.RootElement.GetProperty("response").GetProperty("body").GetProperty("usage");
                var prompt = usage.GetProperty("prompt_tokens").GetInt64();
                var completion = usage.GetProperty("completion_tokens").GetInt64();
                Assert.True(prompt > 0 && completion > 0, line);
                var row = Assert.Single(logs.EnumerateArray(), r => r.GetProperty("request_id").GetString() == batch.GetProperty("id").GetString() + ":" + customId);
                Assert.Equal(model, row.GetProperty("model").GetString());
                Assert.Equal(prompt, row.GetProperty("prompt_tokens").GetInt64());
                Assert.Equal(completion, row.GetProperty("completion_tokens").GetInt64());
                Assert.Equal(prompt * input + completion * outputPrice, decimal.Parse(row.GetProperty("spend").GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture), 12);
                Assert.Equal("carol", row.GetProperty("metadata").GetProperty("user_api_key_alias").GetString());
            }
        }
        Check(openai, await DownloadAsync(client, openai, "output_file_id"), "gpt-4o-mini", 0.000000075m, 0.0000003m);
        Check(claude, await DownloadAsync(client, claude, "output_file_id"), "claude-sonnet-4-5", 0.0000015m, 0.0000075m);
    }


    [SkippableFact]
    public async Task The_openai_npm_client_goes_through_the_whole_life_cycle()
    {
        OpenAINodeClient.Require();
        await using var gemini = await GeminiEmulator.StartNewAsync();
        await using var upstream = await OpenAIEmulator.StartNewAsync();
        gemini.Default = new GeminiScript { HeaderDelay = TimeSpan.FromMilliseconds(20) };
        await using var host = await GatewayHost.StartAsync(Yaml($"""
              - model_name: flash
                litellm_params:
                  model: gemini/gemini-2.5-flash
                  api_base: {gemini.GeminiApiBase}
                  api_key: gemini-test-key
              - model_name: gpt-batch
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_base: {upstream.ApiBase}
                  api_key: sk-upstream
                  batch_api: native
            """, "  batch_parallelism: 2"));
        using var doc = await OpenAINodeClient.RunAsync("batches-check.mjs", TimeSpan.FromSeconds(90), new Uri(host.Root, "/v1").ToString(), "sk-any", "flash", "gpt-batch");
        var r = doc.RootElement;
        Assert.StartsWith("file-", r.GetProperty("file").GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("batch", r.GetProperty("file").GetProperty("purpose").GetString());
        foreach (var run in new[] { "gateway", "native" })
        {
            var batch = r.GetProperty(run);
            Assert.StartsWith("batch_", batch.GetProperty("id").GetString(), StringComparison.Ordinal);
            Assert.Equal("completed", batch.GetProperty("status").GetString());
            Assert.Equal(20, batch.GetProperty("completed").GetInt32());
            var lines = batch.GetProperty("output").EnumerateArray().Select(static l => l.GetString()!).ToArray();
            AssertEveryLine(lines, 20, "chat.completion");
        }
        Assert.Contains(r.GetProperty("listed").EnumerateArray().Select(static e => e.GetString()), id => id == r.GetProperty("gateway").GetProperty("id").GetString());
        var cancelled = r.GetProperty("cancelled");
        Assert.Equal("cancelled", cancelled.GetProperty("status").GetString());
        Assert.InRange(cancelled.GetProperty("completed").GetInt32(), 0, 999);
        Assert.True(r.GetProperty("deleted").GetBoolean());
        Assert.Equal(404, r.GetProperty("missing_status").GetInt32());
    }
}
