using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Host;
using LLMux.Tests.Governance;
using LLMux.Tests.Infrastructure;
using OpenAI;
using OpenAI.Batch;
using OpenAI.Files;

#pragma warning disable OPENAI001 // the SDK marks its Batch client as evaluation-only

namespace LLMux.Tests.Batches;

/// <summary>
/// The Files and Batches APIs run by the gateway, through the official OpenAI .NET SDK (<see cref="OpenAIFileClient"/>,
/// <see cref="BatchClient"/>): upload, create, poll, download; onto Gemini and OpenAI emulators; a restart in the
/// middle; cancel; per-line errors; ownership and spend under governance.
/// </summary>
public sealed class BatchesApiTests : IAsyncLifetime
{
    private string _storage = null!;

    public Task InitializeAsync()
    {
        _storage = Path.Combine(Path.GetTempPath(), "llmux-batches-" + Guid.NewGuid().ToString("N"));
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
        {extra}
        """;

    private static OpenAIClientOptions Options(GatewayHost host) => new() { Endpoint = new Uri(host.Root, "/v1"), RetryPolicy = new ClientRetryPolicy(0) };

    private static string Lines(string model, int count, string url = "/v1/chat/completions", Func<int, string>? body = null)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < count; i++)
            sb.Append("{\"custom_id\":\"req-").Append(i).Append("\",\"method\":\"POST\",\"url\":\"").Append(url).Append("\",\"body\":")
              .Append(body?.Invoke(i) ?? $"{{\"model\":\"{model}\",\"messages\":[{{\"role\":\"user\",\"content\":\"question {i}\"}}],\"max_tokens\":20}}").Append("}\n");
        return sb.ToString();
    }

    private static async Task<JsonElement> CreateAsync(BatchClient batches, string fileId, string endpoint = "/v1/chat/completions")
    {
        var op = await batches.CreateBatchAsync(BinaryContent.Create(BinaryData.FromString($$$"""{"input_file_id":"{{{fileId}}}","endpoint":"{{{endpoint}}}","completion_window":"24h","metadata":{"job":"nightly-eval"}}""")), waitUntilCompleted: false);
        return JsonDocument.Parse(op.GetRawResponse().Content.ToString()).RootElement.Clone();
    }

    private static async Task<JsonElement> GetAsync(HttpClient http, string id)
    {
        using var response = await http.GetAsync("/v1/batches/" + id);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    /// <summary>Polls until the batch is in one of <paramref name="states"/> (bounded: 30 s).</summary>
    private static async Task<JsonElement> WaitAsync(HttpClient http, string id, params string[] states)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var batch = await GetAsync(http, id);
            if (states.Contains(batch.GetProperty("status").GetString())) return batch;
            if (DateTime.UtcNow > until) Assert.Fail($"batch {id} is still {batch}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task A_batch_runs_onto_Gemini_through_the_SDK_and_its_output_matches_OpenAIs_format_line_for_line()
    {
        await using var gemini = await GeminiEmulator.StartNewAsync();
        await using var host = await GatewayHost.StartAsync(Yaml($"""
              - model_name: flash
                litellm_params:
                  model: gemini/gemini-2.5-flash
                  api_base: {gemini.GeminiApiBase}
                  api_key: gemini-test-key
            """));
        var files = new OpenAIClient(new ApiKeyCredential("sk-any"), Options(host)).GetOpenAIFileClient();
        var input = Lines("flash", 100) + "this is not json\n" + Lines("flash", 1, "/v1/embeddings").Replace("req-0", "wrong-url");
        var uploaded = await files.UploadFileAsync(BinaryData.FromString(input), "eval.jsonl", FileUploadPurpose.Batch);
        Assert.StartsWith("file-", uploaded.Value.Id, StringComparison.Ordinal);
        Assert.Equal(Encoding.UTF8.GetByteCount(input), uploaded.Value.SizeInBytes);
        Assert.Equal("eval.jsonl", uploaded.Value.Filename);

        var batches = new OpenAIClient(new ApiKeyCredential("sk-any"), Options(host)).GetBatchClient();
        var created = await CreateAsync(batches, uploaded.Value.Id);
        Assert.StartsWith("batch_", created.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("batch", created.GetProperty("object").GetString());
        Assert.Equal("nightly-eval", created.GetProperty("metadata").GetProperty("job").GetString());
        Assert.Equal(created.GetProperty("created_at").GetInt64() + 86_400, created.GetProperty("expires_at").GetInt64());

        var done = await WaitAsync(host.Http, created.GetProperty("id").GetString()!, "completed", "failed");
        Assert.Equal("completed", done.GetProperty("status").GetString());
        var counts = done.GetProperty("request_counts");
        Assert.Equal(102, counts.GetProperty("total").GetInt64());
        Assert.Equal(100, counts.GetProperty("completed").GetInt64());
        Assert.Equal(2, counts.GetProperty("failed").GetInt64());
        foreach (var stamp in new[] { "in_progress_at", "finalizing_at", "completed_at" }) Assert.Equal(JsonValueKind.Number, done.GetProperty(stamp).ValueKind);
        Assert.Equal(100, gemini.ModelRequests.Count());

        var output = (await files.DownloadFileAsync(done.GetProperty("output_file_id").GetString()!)).Value.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(100, output.Length);
        var ids = new HashSet<string>();
        foreach (var line in output)
        {
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            Assert.StartsWith("batch_req_", r.GetProperty("id").GetString(), StringComparison.Ordinal);
            Assert.True(ids.Add(r.GetProperty("custom_id").GetString()!));
            Assert.Equal(200, r.GetProperty("response").GetProperty("status_code").GetInt32());
            Assert.Equal("chat.completion", r.GetProperty("response").GetProperty("body").GetProperty("object").GetString());
            Assert.Equal("Hello from Gemini.", r.GetProperty("response").GetProperty("body").GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
            Assert.Equal(JsonValueKind.Null, r.GetProperty("error").ValueKind);
        }
        Assert.Equal(Enumerable.Range(0, 100).Select(static i => "req-" + i).ToHashSet(), ids);

        var errors = (await files.DownloadFileAsync(done.GetProperty("error_file_id").GetString()!)).Value.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, errors.Length);
        Assert.Contains(errors, static e => e.Contains("\"line\":101", StringComparison.Ordinal) && e.Contains("not valid JSON", StringComparison.Ordinal));
        Assert.Contains(errors, static e => e.Contains("\"custom_id\":\"wrong-url\"", StringComparison.Ordinal) && e.Contains("another endpoint", StringComparison.Ordinal));

        // The output and error files are listed with the input, as batch_output.
        var listed = (await files.GetFilesAsync()).Value;
        Assert.Equal(3, listed.Count);
        Assert.Equal(2, listed.Count(static f => f.Purpose == FilePurpose.BatchOutput));
        using var list = await host.Http.GetAsync("/v1/batches?limit=1");
        var page = JsonDocument.Parse(await list.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(created.GetProperty("id").GetString(), page.GetProperty("data")[0].GetProperty("id").GetString());
        Assert.False(page.GetProperty("has_more").GetBoolean());
    }

    [Fact]
    public async Task A_restart_in_the_middle_resumes_the_batch_without_running_finished_lines_again()
    {
        await using var upstream = await OpenAIEmulator.StartNewAsync();
        upstream.Default = new OpenAIScript { HeaderDelay = TimeSpan.FromMilliseconds(150) };
        var yaml = Yaml($"""
              - model_name: gpt-batch
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_base: {upstream.ApiBase}
                  api_key: sk-upstream
            """, "  batch_parallelism: 2");
        string id;
        await using (var first = await GatewayHost.StartAsync(yaml))
        {
            var files = new OpenAIClient(new ApiKeyCredential("sk-any"), Options(first)).GetOpenAIFileClient();
            var uploaded = await files.UploadFileAsync(BinaryData.FromString(Lines("gpt-batch", 40)), "big.jsonl", FileUploadPurpose.Batch);
            id = (await CreateAsync(new OpenAIClient(new ApiKeyCredential("sk-any"), Options(first)).GetBatchClient(), uploaded.Value.Id)).GetProperty("id").GetString()!;
            var until = DateTime.UtcNow.AddSeconds(20);
            while ((await GetAsync(first.Http, id)).GetProperty("request_counts").GetProperty("completed").GetInt64() < 6)
            {
                Assert.True(DateTime.UtcNow < until, "the batch made no progress");
                await Task.Delay(20);
            }
        }
        var sentBefore = upstream.Requests.Count;
        Assert.InRange(sentBefore, 6, 39);

        await using var second = await GatewayHost.StartAsync(yaml);
        var state = await GetAsync(second.Http, id);
        Assert.Equal("in_progress", state.GetProperty("status").GetString());
        var done = await WaitAsync(second.Http, id, "completed", "failed");
        Assert.Equal("completed", done.GetProperty("status").GetString());
        Assert.True(done.GetProperty("request_counts").GetProperty("completed").GetInt64() == 40, done.ToString());
        var output = await second.Http.GetStringAsync($"/v1/files/{done.GetProperty("output_file_id").GetString()}/content");
        var ids = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(static l => JsonDocument.Parse(l).RootElement.GetProperty("custom_id").GetString()).ToList();
        Assert.Equal(40, ids.Count);
        Assert.Equal(40, ids.Distinct().Count());
        // The calls in flight when the first host stopped finished and were written before it let the batch go: no line was sent twice.
        Assert.Equal(40, upstream.Requests.Count);
    }

    [Fact]
    public async Task A_cancelled_batch_stops_its_calls_and_keeps_what_finished()
    {
        await using var upstream = await OpenAIEmulator.StartNewAsync();
        upstream.Default = new OpenAIScript { HeaderDelay = TimeSpan.FromMilliseconds(200) };
        await using var host = await GatewayHost.StartAsync(Yaml($"""
              - model_name: gpt-batch
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_base: {upstream.ApiBase}
                  api_key: sk-upstream
            """, "  batch_parallelism: 2"));
        var files = new OpenAIClient(new ApiKeyCredential("sk-any"), Options(host)).GetOpenAIFileClient();
        var uploaded = await files.UploadFileAsync(BinaryData.FromString(Lines("gpt-batch", 50)), "slow.jsonl", FileUploadPurpose.Batch);
        var batches = new OpenAIClient(new ApiKeyCredential("sk-any"), Options(host)).GetBatchClient();
        var op = await batches.CreateBatchAsync(BinaryContent.Create(BinaryData.FromString($$"""{"input_file_id":"{{uploaded.Value.Id}}","endpoint":"/v1/chat/completions","completion_window":"24h"}""")), waitUntilCompleted: false);
        var id = JsonDocument.Parse(op.GetRawResponse().Content.ToString()).RootElement.GetProperty("id").GetString()!;
        await WaitAsync(host.Http, id, "in_progress");
        while ((await GetAsync(host.Http, id)).GetProperty("request_counts").GetProperty("completed").GetInt64() < 2) await Task.Delay(20);

        var cancel = await op.CancelAsync(new RequestOptions());
        var cancelling = JsonDocument.Parse(cancel.GetRawResponse().Content.ToString()).RootElement;
        Assert.Contains(cancelling.GetProperty("status").GetString(), new[] { "cancelling", "cancelled" });
        var done = await WaitAsync(host.Http, id, "cancelled");
        var completed = done.GetProperty("request_counts").GetProperty("completed").GetInt64();
        Assert.InRange(completed, 2, 49);
        Assert.Equal(JsonValueKind.Number, done.GetProperty("cancelled_at").ValueKind);
        var output = await host.Http.GetStringAsync($"/v1/files/{done.GetProperty("output_file_id").GetString()}/content");
        Assert.Equal(completed, output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        await Task.Delay(500);
        Assert.True(upstream.Requests.Count <= completed + 2, $"{upstream.Requests.Count} upstream calls for {completed} completed: {done}");

        // A finished batch cannot be cancelled again.
        using var again = await host.Http.PostAsync($"/v1/batches/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Fact]
    public async Task Bad_input_gets_OpenAI_errors_before_anything_runs()
    {
        await using var upstream = await OpenAIEmulator.StartNewAsync();
        await using var host = await GatewayHost.StartAsync(Yaml($"""
              - model_name: gpt-batch
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_base: {upstream.ApiBase}
                  api_key: sk-upstream
            """, "  max_file_size_mb: 1"));
        var http = host.Http;
        async Task<(HttpStatusCode, string)> Upload(byte[] bytes, string purpose, string name = "in.jsonl")
        {
            using var form = new MultipartFormDataContent { { new StringContent(purpose), "purpose" }, { new ByteArrayContent(bytes), "file", name } };
            using var r = await http.PostAsync("/v1/files", form);
            return (r.StatusCode, await r.Content.ReadAsStringAsync());
        }
        async Task<(HttpStatusCode, string)> Create(string json)
        {
            using var r = await http.PostAsync("/v1/batches", new StringContent(json, Encoding.UTF8, "application/json"));
            return (r.StatusCode, await r.Content.ReadAsStringAsync());
        }

        var (big, bigBody) = await Upload(new byte[2 * 1024 * 1024], "batch");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, big);
        Assert.Contains("max_file_size_mb", bigBody, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_storage, "files")));
        var (badPurpose, badPurposeBody) = await Upload("{}"u8.ToArray(), "homework");
        Assert.Equal(HttpStatusCode.BadRequest, badPurpose);
        Assert.Contains("purpose", badPurposeBody, StringComparison.Ordinal);
        var (empty, _) = await Upload([], "batch");
        Assert.Equal(HttpStatusCode.BadRequest, empty);
        using (var notMultipart = await http.PostAsync("/v1/files", new StringContent("{}", Encoding.UTF8, "application/json")))
            Assert.Equal(HttpStatusCode.BadRequest, notMultipart.StatusCode);

        var (ok, okBody) = await Upload(Encoding.UTF8.GetBytes(Lines("gpt-batch", 2) + Lines("gpt-batch", 1)), "batch");
        Assert.Equal(HttpStatusCode.OK, ok);
        var fileId = JsonDocument.Parse(okBody).RootElement.GetProperty("id").GetString()!;
        var (_, userData) = await Upload("hello"u8.ToArray(), "user_data", "notes.txt");
        var userFile = JsonDocument.Parse(userData).RootElement.GetProperty("id").GetString()!;

        var (window, windowBody) = await Create($$"""{"input_file_id":"{{fileId}}","endpoint":"/v1/chat/completions","completion_window":"48h"}""");
        Assert.Equal(HttpStatusCode.BadRequest, window);
        Assert.Contains("completion_window", windowBody, StringComparison.Ordinal);
        var (endpoint, endpointBody) = await Create($$"""{"input_file_id":"{{fileId}}","endpoint":"/v1/images/generations","completion_window":"24h"}""");
        Assert.Equal(HttpStatusCode.BadRequest, endpoint);
        Assert.Contains("endpoint", endpointBody, StringComparison.Ordinal);
        var (unknown, unknownBody) = await Create("""{"input_file_id":"file-0123456789abcdef01234567","endpoint":"/v1/chat/completions","completion_window":"24h"}""");
        Assert.Equal(HttpStatusCode.NotFound, unknown);
        Assert.Contains("No such File object", unknownBody, StringComparison.Ordinal);
        var (purpose, purposeBody) = await Create($$"""{"input_file_id":"{{userFile}}","endpoint":"/v1/chat/completions","completion_window":"24h"}""");
        Assert.Equal(HttpStatusCode.BadRequest, purpose);
        Assert.Contains("purpose `batch`", purposeBody, StringComparison.Ordinal);
        var (typo, typoBody) = await Create($$$"""{"input_file_id":"{{{fileId}}}","endpoint":"/v1/chat/completions","completion_window":"24h","metdata":{}}""");
        Assert.Equal(HttpStatusCode.BadRequest, typo);
        Assert.Contains("metdata", typoBody, StringComparison.Ordinal);
        using (var malformed = await http.PostAsync("/v1/batches", new StringContent("{not json", Encoding.UTF8, "application/json")))
            Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);

        // The same custom_id twice fails the batch with OpenAI's error, before any call.
        var (dup, dupBody) = await Create($$"""{"input_file_id":"{{fileId}}","endpoint":"/v1/chat/completions","completion_window":"24h"}""");
        Assert.Equal(HttpStatusCode.OK, dup);
        var failed = await WaitAsync(http, JsonDocument.Parse(dupBody).RootElement.GetProperty("id").GetString()!, "failed", "completed");
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        var error = failed.GetProperty("errors").GetProperty("data")[0];
        Assert.Equal("duplicate_custom_id", error.GetProperty("code").GetString());
        Assert.Equal(3, error.GetProperty("line").GetInt64());
        Assert.Empty(upstream.Requests);

        using (var missing = await http.GetAsync("/v1/batches/batch_nope")) Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using (var traversal = await http.GetAsync("/v1/files/..%2F..%2Fetc%2Fpasswd/content")) Assert.Equal(HttpStatusCode.NotFound, traversal.StatusCode);
        using (var deleted = await http.DeleteAsync("/v1/files/" + userFile)) Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        using (var gone = await http.GetAsync($"/v1/files/{userFile}/content")) Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task Under_governance_a_key_sees_only_its_own_files_and_batches_and_its_batch_is_charged_to_it()
    {
        await using var g = await GovernanceGateway.StartAsync();
        var alice = await g.NewKeyAsync("""{"key_alias":"alice"}""");
        var bob = await g.NewKeyAsync("""{"key_alias":"bob"}""");
        var files = new OpenAIClient(new ApiKeyCredential(alice), Options(g.Host)).GetOpenAIFileClient();
        var uploaded = await files.UploadFileAsync(BinaryData.FromString(Lines("gpt-test", 3)), "alice.jsonl", FileUploadPurpose.Batch);
        var created = await CreateAsync(new OpenAIClient(new ApiKeyCredential(alice), Options(g.Host)).GetBatchClient(), uploaded.Value.Id);
        var id = created.GetProperty("id").GetString()!;

        using var asAlice = new HttpClient { BaseAddress = g.Host.Root };
        asAlice.DefaultRequestHeaders.Authorization = new("Bearer", alice);
        var done = await WaitAsync(asAlice, id, "completed", "failed");
        Assert.True(done.GetProperty("request_counts").GetProperty("completed").GetInt64() == 3,
            done.ToString() + (done.GetProperty("error_file_id").GetString() is { } err ? await asAlice.GetStringAsync($"/v1/files/{err}/content") : ""));

        var bobFiles = new OpenAIClient(new ApiKeyCredential(bob), Options(g.Host)).GetOpenAIFileClient();
        var notBobs = await Assert.ThrowsAsync<ClientResultException>(() => bobFiles.GetFileAsync(uploaded.Value.Id));
        Assert.Equal(404, notBobs.Status);
        Assert.Empty((await bobFiles.GetFilesAsync()).Value);
        using var asBob = new HttpClient { BaseAddress = g.Host.Root };
        asBob.DefaultRequestHeaders.Authorization = new("Bearer", bob);
        using (var bobsView = await asBob.GetAsync("/v1/batches/" + id)) Assert.Equal(HttpStatusCode.NotFound, bobsView.StatusCode);
        using (var bobsCancel = await asBob.PostAsync($"/v1/batches/{id}/cancel", null)) Assert.Equal(HttpStatusCode.NotFound, bobsCancel.StatusCode);
        using (var noKey = await new HttpClient { BaseAddress = g.Host.Root }.GetAsync("/v1/files")) Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
        // The master key sees everything.
        using (var master = await g.Host.Http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/v1/batches/" + id) { Headers = { { "Authorization", "Bearer " + GovernanceGateway.Master } } }))
            Assert.Equal(HttpStatusCode.OK, master.StatusCode);

        // Each line was a call made as alice: three spend rows on her key.
        var (_, logs) = await g.GetAsync("/spend/logs?api_key=" + alice);
        Assert.Equal(3, logs.GetArrayLength());
        Assert.All(logs.EnumerateArray(), static r => Assert.Equal("alice", r.GetProperty("metadata").GetProperty("user_api_key_alias").GetString()));
    }

    [Fact]
    public async Task A_batch_for_an_OpenAI_group_runs_at_OpenAI_with_its_ids_mapped_and_1000_lines_back()
    {
        await using var upstream = await OpenAIEmulator.StartNewAsync();
        await using var host = await GatewayHost.StartAsync(Yaml($"""
              - model_name: gpt-batch
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_base: {upstream.ApiBase}
                  api_key: sk-upstream
                  batch_api: native
              - model_name: gpt-gateway
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_base: {upstream.ApiBase}
                  api_key: sk-upstream
            """, "  batch_poll_interval_seconds: 0.05"));
        var client = new OpenAIClient(new ApiKeyCredential("sk-any"), Options(host));
        var files = client.GetOpenAIFileClient();
        var uploaded = await files.UploadFileAsync(BinaryData.FromString(Lines("gpt-batch", 1000)), "thousand.jsonl", FileUploadPurpose.Batch);
        var created = await CreateAsync(client.GetBatchClient(), uploaded.Value.Id);
        var id = created.GetProperty("id").GetString()!;
        var done = await WaitAsync(host.Http, id, "completed", "failed");
        Assert.True(done.GetProperty("status").GetString() == "completed", done.ToString());
        Assert.Equal(1000, done.GetProperty("request_counts").GetProperty("completed").GetInt64());

        // OpenAI ran it: one upload (each line's model now the deployment's), one batch, no chat call from the gateway.
        var remoteFile = Assert.Single(upstream.FilesAndBatches.Files.Values, static f => f.Purpose == "batch");
        var remoteLines = Encoding.UTF8.GetString(remoteFile.Content).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(1000, remoteLines.Length);
        Assert.All(remoteLines, static l => Assert.Equal("gpt-4o-mini", JsonDocument.Parse(l).RootElement.GetProperty("body").GetProperty("model").GetString()));
        var remote = Assert.Single(upstream.FilesAndBatches.Batches.Values);
        Assert.Equal("/v1/chat/completions", remote.Endpoint);
        Assert.DoesNotContain(upstream.Requests, static r => r.Path.EndsWith("/chat/completions", StringComparison.Ordinal));
        Assert.Contains(upstream.Requests, static r => r.Path == "/v1/files" && r.Headers.Any(static h => h.Key.Equals("authorization", StringComparison.OrdinalIgnoreCase) && h.Value == "Bearer sk-upstream"));

        // The client sees LLMux's ids only, and OpenAI's output lines, one per request.
        Assert.DoesNotContain("emu", id, StringComparison.Ordinal);
        var outputId = done.GetProperty("output_file_id").GetString()!;
        Assert.DoesNotContain("emu", outputId, StringComparison.Ordinal);
        var output = (await files.DownloadFileAsync(outputId)).Value.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(1000, output.Length);
        Assert.Equal(Enumerable.Range(0, 1000).Select(static i => "req-" + i).ToHashSet(), output.Select(static l => JsonDocument.Parse(l).RootElement.GetProperty("custom_id").GetString()!).ToHashSet());

        // openai/ pointed at another server (no `batch_api: native`) stays on the gateway's own runner.
        var second = await files.UploadFileAsync(BinaryData.FromString(Lines("gpt-gateway", 3)), "three.jsonl", FileUploadPurpose.Batch);
        var viaGateway = await WaitAsync(host.Http, (await CreateAsync(client.GetBatchClient(), second.Value.Id)).GetProperty("id").GetString()!, "completed", "failed");
        Assert.Equal(3, viaGateway.GetProperty("request_counts").GetProperty("completed").GetInt64());
        Assert.Equal(3, upstream.Requests.Count(static r => r.Path.EndsWith("/chat/completions", StringComparison.Ordinal)));
        Assert.Single(upstream.FilesAndBatches.Batches);
    }

    [Fact]
    public async Task Cancelling_a_native_batch_cancels_it_at_OpenAI()
    {
        await using var upstream = await OpenAIEmulator.StartNewAsync();
        upstream.FilesAndBatches.PollsToComplete = 100_000;
        await using var host = await GatewayHost.StartAsync(Yaml($"""
              - model_name: gpt-batch
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_base: {upstream.ApiBase}
                  api_key: sk-upstream
                  batch_api: native
            """, "  batch_poll_interval_seconds: 0.05"));
        var client = new OpenAIClient(new ApiKeyCredential("sk-any"), Options(host));
        var uploaded = await client.GetOpenAIFileClient().UploadFileAsync(BinaryData.FromString(Lines("gpt-batch", 5)), "five.jsonl", FileUploadPurpose.Batch);
        var id = (await CreateAsync(client.GetBatchClient(), uploaded.Value.Id)).GetProperty("id").GetString()!;
        var until = DateTime.UtcNow.AddSeconds(20);
        while (upstream.FilesAndBatches.Batches.Values.FirstOrDefault() is not { Status: "in_progress" })
        {
            Assert.True(DateTime.UtcNow < until, "the batch never started at the provider");
            await Task.Delay(20);
        }
        using (var cancel = await host.Http.PostAsync($"/v1/batches/{id}/cancel", null)) Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        var done = await WaitAsync(host.Http, id, "cancelled");
        Assert.Equal(JsonValueKind.Number, done.GetProperty("cancelled_at").ValueKind);
        Assert.Equal("cancelled", upstream.FilesAndBatches.Batches.Values.Single().Status);
        Assert.Contains(upstream.Requests, static r => r.Path.EndsWith("/cancel", StringComparison.Ordinal));
    }
}
