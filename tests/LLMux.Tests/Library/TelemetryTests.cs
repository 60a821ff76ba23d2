using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using LLMux.Emulators;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Wire;
using LLMux.Stages.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace LLMux.Tests.Library;

/// <summary>The LLMux ActivitySource and Meter, captured in memory with the runtime's own listeners.</summary>
public sealed class TelemetryTests : IAsyncLifetime
{
    // Unique names: listeners are process-wide and other tests run in parallel.
    private readonly string _model = "telemetry-" + Guid.NewGuid().ToString("N")[..8];
    private readonly ConcurrentQueue<(string Name, double Value, Dictionary<string, object?> Tags)> _measurements = new();
    private readonly ConcurrentQueue<Activity> _activities = new();
    private OpenAIEmulator _upstream = null!;
    private ServiceProvider _services = null!;
    private MeterListener _meters = null!;
    private ActivityListener _spans = null!;

    public async Task InitializeAsync()
    {
        _meters = new MeterListener { InstrumentPublished = static (i, l) => { if (i.Meter.Name == "LLMux") l.EnableMeasurementEvents(i); } };
        _meters.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i.Name, v, tags));
        _meters.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i.Name, v, tags));
        _meters.Start();
        _spans = new ActivityListener
        {
            ShouldListenTo = static s => s.Name == "LLMux",
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => { if (a.DisplayName.EndsWith(_model, StringComparison.Ordinal)) _activities.Enqueue(a); },
        };
        ActivitySource.AddActivityListener(_spans);
        _upstream = await OpenAIEmulator.StartNewAsync();
        _services = LibraryHost.Build(b => b.AddDeployment(_model, "openai/gpt-4o-mini", _upstream.ApiBase, "sk-up"));
    }

    private void Add(string name, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var d = new Dictionary<string, object?>();
        foreach (var t in tags) d[t.Key] = t.Value;
        if (Equals(d.GetValueOrDefault("gen_ai.request.model"), _model)) _measurements.Enqueue((name, value, d));
    }

    public async Task DisposeAsync()
    {
        _meters.Dispose();
        _spans.Dispose();
        await _services.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private ChatRequest Hello(bool stream = false) => new()
    {
        Model = _model,
        Messages = [new ChatMessage { Role = "user", Content = ChatRequestJson.String("hi") }],
        StreamOptions = stream ? new StreamOptions { IncludeUsage = true } : null,
    };

    [Fact]
    public async Task A_call_records_duration_token_usage_and_a_client_span_with_genai_names()
    {
        _upstream.Enqueue(new OpenAIScript { PromptTokens = 11, CompletionTokens = 7 });
        await _services.GetRequiredService<ILlmClient>().CompleteAsync(Hello());

        var duration = Assert.Single(_measurements, static m => m.Name == "gen_ai.client.operation.duration");
        Assert.Equal("chat", duration.Tags["gen_ai.operation.name"]);
        Assert.Equal("openai", duration.Tags["gen_ai.provider.name"]);
        Assert.Equal("openai", duration.Tags["gen_ai.system"]);
        Assert.Equal("gpt-4o-mini", duration.Tags["gen_ai.response.model"]);
        Assert.False(duration.Tags.ContainsKey("error.type"));
        var tokens = _measurements.Where(static m => m.Name == "gen_ai.client.token.usage").ToDictionary(static m => (string)m.Tags["gen_ai.token.type"]!, static m => m.Value);
        Assert.Equal(11, tokens["input"]);
        Assert.Equal(7, tokens["output"]);
        Assert.DoesNotContain(_measurements, static m => m.Name == "gen_ai.client.operation.time_to_first_chunk");

        var span = Assert.Single(_activities);
        Assert.Equal(ActivityKind.Client, span.Kind);
        Assert.Equal("chat " + _model, span.DisplayName);
        Assert.Equal(11L, span.GetTagItem("gen_ai.usage.input_tokens"));
        Assert.Equal("127.0.0.1", span.GetTagItem("server.address"));
    }

    [Fact]
    public async Task A_stream_records_time_to_first_chunk_and_its_usage_when_it_ends()
    {
        _upstream.Enqueue(new OpenAIScript { Content = "a b c", Chunks = 3, PromptTokens = 5, CompletionTokens = 3 });
        await foreach (var _ in _services.GetRequiredService<ILlmClient>().StreamAsync(Hello(stream: true))) { }

        Assert.Single(_measurements, static m => m.Name == "gen_ai.client.operation.time_to_first_chunk");
        Assert.Single(_measurements, static m => m.Name == "gen_ai.client.operation.duration");
        Assert.Contains(_measurements, static m => m.Name == "gen_ai.client.token.usage" && Equals(m.Tags["gen_ai.token.type"], "output") && m.Value == 3);
        Assert.Single(_activities);
    }

    [Fact]
    public async Task A_failed_call_carries_its_error_kind_as_error_type()
    {
        _upstream.Enqueue(new OpenAIScript { ErrorStatus = 429, ErrorBody = """{"error":{"message":"slow","type":"rate_limit_error","param":null,"code":null}}""" });
        await Assert.ThrowsAsync<LlmException>(() => _services.GetRequiredService<ILlmClient>().CompleteAsync(Hello()));

        var duration = Assert.Single(_measurements, static m => m.Name == "gen_ai.client.operation.duration");
        Assert.Equal("rate_limit", duration.Tags["error.type"]);
        var span = Assert.Single(_activities);
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Equal("rate_limit", span.GetTagItem("error.type"));
    }

    [Fact]
    public async Task A_stream_that_breaks_after_content_is_an_error_in_its_metrics()
    {
        _upstream.Enqueue(new OpenAIScript { Content = "a b c d", Chunks = 4, ResetAfter = 2 });
        await Assert.ThrowsAsync<LlmException>(async () => { await foreach (var _ in _services.GetRequiredService<ILlmClient>().StreamAsync(Hello(stream: true))) { } });

        var duration = Assert.Single(_measurements, static m => m.Name == "gen_ai.client.operation.duration");
        Assert.Equal("bad_gateway", duration.Tags["error.type"]);
    }
}
