using System.Text;
using System.Text.Json;
using LLMux.Host.Batch;
using LLMux.Stages.Hosting;
using LLMux.Tests.Library;
using Microsoft.Extensions.DependencyInjection;

namespace LLMux.Tests.Batch;

/// <summary>llmux batch's runner on 10,000 requests against the built-in mock, with failures injected on cue.</summary>
public sealed class BatchRunnerTests : IAsyncLifetime
{
    private const int Lines = 10_000;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "llmux-batch-" + Guid.NewGuid().ToString("N"));
    private ServiceProvider _services = null!;
    private ILlmClient _client = null!;
    private readonly Dictionary<string, int> _expected = new(StringComparer.Ordinal);

    private string Input => Path.Combine(_dir, "requests.jsonl");
    private string Output => Path.Combine(_dir, "results.jsonl");
    private string Errors => Path.Combine(_dir, "results.errors.jsonl");

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        _services = LibraryHost.Build(b => b.AddDeployment("mock-gpt", "mock/mock-gpt").AddDeployment("mock-embed", "mock/mock-embed"));
        _client = _services.GetRequiredService<ILlmClient>();
        var sb = new StringBuilder();
        for (var i = 1; i <= Lines; i++)
        {
            var id = $"req-{i:D5}";
            if (i % 7 == 0)
            {
                sb.Append($$$"""{"custom_id":"{{{id}}}","method":"POST","url":"/v1/chat/completions","body":{"model":"mock-gpt","mock_error_status":503,"messages":[{"role":"user","content":"fail {{{i}}}"}]}}""");
                _expected[id] = 503;
            }
            else if (i % 13 == 0)
            {
                sb.Append($$$"""{"custom_id":"{{{id}}}","method":"POST","url":"/v1/chat/completions","body":{"model":"no-such-model","messages":[{"role":"user","content":"x"}]}}""");
                _expected[id] = 400;
            }
            else if (i % 11 == 0)
            {
                sb.Append($$$"""{"custom_id":"{{{id}}}","method":"POST","url":"/v1/embeddings","body":{"model":"mock-embed","input":"text {{{i}}}"}}""");
                _expected[id] = 200;
            }
            else
            {
                sb.Append($$$"""{"custom_id":"{{{id}}}","method":"POST","url":"/v1/chat/completions","body":{"model":"mock-gpt","messages":[{"role":"user","content":"hello {{{i}}}"}]}}""");
                _expected[id] = 200;
            }
            sb.Append('\n');
            if (i % 2500 == 0) sb.Append("this line is not json\n");
        }
        File.WriteAllText(Input, sb.ToString());
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private BatchOptions Options => new() { InputPath = Input, OutputPath = Output, Parallelism = 16 };

    /// <summary>custom_id → status code over both files; fails on any custom_id written twice.</summary>
    private (Dictionary<string, int> ById, int InvalidLines) ReadAll()
    {
        var byId = new Dictionary<string, int>(StringComparer.Ordinal);
        var invalid = 0;
        foreach (var path in new[] { Output, Errors })
        {
            foreach (var text in File.ReadLines(path))
            {
                using var doc = JsonDocument.Parse(text);
                var root = doc.RootElement;
                Assert.StartsWith("batch_req_", root.GetProperty("id").GetString(), StringComparison.Ordinal);
                if (root.GetProperty("custom_id").ValueKind == JsonValueKind.Null)
                {
                    Assert.Equal(Errors, path);
                    Assert.True(root.GetProperty("line").GetInt64() > 0);
                    invalid++;
                    continue;
                }
                var id = root.GetProperty("custom_id").GetString()!;
                var response = root.GetProperty("response");
                var status = response.GetProperty("status_code").GetInt32();
                Assert.True(byId.TryAdd(id, status), $"custom_id {id} written twice");
                if (path == Output)
                {
                    Assert.Equal(200, status);
                    Assert.Equal(JsonValueKind.Null, root.GetProperty("error").ValueKind);
                    var body = response.GetProperty("body");
                    Assert.True(body.TryGetProperty("choices", out _) || body.TryGetProperty("data", out _));
                }
                else
                {
                    Assert.NotEqual(200, status);
                    Assert.True(response.GetProperty("body").GetProperty("error").TryGetProperty("message", out _));
                    Assert.False(string.IsNullOrEmpty(root.GetProperty("error").GetProperty("message").GetString()));
                }
            }
        }
        return (byId, invalid);
    }

    [Fact]
    public async Task Every_custom_id_is_written_once_to_results_or_errors_with_its_status()
    {
        var summary = await BatchRunner.RunAsync(Options, _client);

        var (byId, invalid) = ReadAll();
        Assert.Equal(_expected, byId);
        Assert.Equal(4, invalid);
        Assert.Equal(_expected.Count(static e => e.Value == 200), summary.Succeeded);
        Assert.Equal(_expected.Count(static e => e.Value != 200) + 4, summary.Failed);
        Assert.False(summary.Cancelled);
        Assert.True(summary.Tokens > 0);
    }

    [Fact]
    public async Task A_run_stopped_midway_and_cut_off_mid_line_then_resumed_ends_with_the_same_set()
    {
        using var stop = new CancellationTokenSource();
        var progress = new BatchProgress();
        progress.Written += p => { if (p.Done >= 3000) stop.Cancel(); };
        var first = await BatchRunner.RunAsync(Options, _client, progress, stop.Token);
        Assert.True(first.Cancelled);
        var writtenFirst = first.Succeeded + first.Failed;
        Assert.InRange(writtenFirst, 3000, Lines - 1);

        // A crash while writing leaves half a line: the resume must drop it and redo that request.
        File.AppendAllText(Output, """{"id":"batch_req_cut","custom_id":"req-0""");

        var second = await BatchRunner.RunAsync(Options, _client);
        Assert.False(second.Cancelled);
        Assert.Equal(writtenFirst, second.Skipped);

        var (byId, invalid) = ReadAll();
        Assert.Equal(_expected, byId);
        Assert.Equal(4, invalid);
    }

    [Fact]
    public async Task A_rerun_of_a_finished_batch_sends_nothing()
    {
        await BatchRunner.RunAsync(Options, _client);
        var before = File.ReadAllBytes(Output).Length + File.ReadAllBytes(Errors).Length;

        var again = await BatchRunner.RunAsync(Options, _client);

        Assert.Equal(0, again.Succeeded + again.Failed);
        Assert.Equal(Lines + 4, again.Skipped);
        Assert.Equal(before, File.ReadAllBytes(Output).Length + File.ReadAllBytes(Errors).Length);
    }
}

/// <summary>A batch wider than a deployment's max_parallel_requests waits for room instead of failing with 429.</summary>
public sealed class BatchModelLimitTests : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "llmux-batch-" + Guid.NewGuid().ToString("N"));
    private LLMux.Emulators.OpenAIEmulator _upstream = null!;
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        _upstream = await LLMux.Emulators.OpenAIEmulator.StartNewAsync();
        _upstream.Default = new LLMux.Emulators.OpenAIScript { HeaderDelay = TimeSpan.FromMilliseconds(20) };
        _services = LibraryHost.Build(b => b.AddDeployment("narrow", "openai/gpt-4o-mini", _upstream.ApiBase, "sk",
            d => d with { Params = new Dictionary<string, string> { ["max_parallel_requests"] = "2" } }));
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _upstream.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Calls_to_a_limited_group_wait_for_room_and_all_succeed()
    {
        var input = Path.Combine(_dir, "in.jsonl");
        File.WriteAllLines(input, Enumerable.Range(1, 60).Select(static i =>
            $$$"""{"custom_id":"n{{{i}}}","method":"POST","url":"/v1/chat/completions","body":{"model":"narrow","messages":[{"role":"user","content":"hi"}]}}"""));
        var runtime = _services.GetRequiredService<LLMuxRuntime>();
        var options = new BatchOptions
        {
            InputPath = input,
            OutputPath = Path.Combine(_dir, "out.jsonl"),
            Parallelism = 16,
            ModelLimit = m => BatchCommand.GroupLimit(runtime, m),
        };

        var summary = await BatchRunner.RunAsync(options, _services.GetRequiredService<ILlmClient>());

        Assert.Equal(0, summary.Failed);
        Assert.Equal(60, summary.Succeeded);
        Assert.Equal(2, BatchCommand.GroupLimit(runtime, "narrow"));
        Assert.Null(BatchCommand.GroupLimit(runtime, "unknown"));
    }
}
