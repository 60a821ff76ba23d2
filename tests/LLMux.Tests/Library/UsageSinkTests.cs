using System.Collections.Concurrent;
using LLMux.Emulators;
using LLMux.Pipeline.Wire;
using LLMux.Stages.Accounting;
using LLMux.Stages.Hosting;
using Microsoft.Extensions.DependencyInjection;
using ChatMessage = LLMux.Pipeline.Wire.ChatMessage;

namespace LLMux.Tests.Library;

/// <summary>The usage sink: records reach attached stores in batches, off the request path, and bounded.</summary>
public sealed class UsageSinkTests
{
    private sealed class RecordingStore : IUsageStore
    {
        public ConcurrentQueue<UsageRecord> Records { get; } = new();
        public ConcurrentQueue<int> BatchSizes { get; } = new();
        public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public bool Blocking { get; init; }

        public async ValueTask WriteAsync(IReadOnlyList<UsageRecord> batch, CancellationToken cancellationToken)
        {
            if (Blocking) await Gate.Task.WaitAsync(cancellationToken);
            BatchSizes.Enqueue(batch.Count);
            foreach (var r in batch) Records.Enqueue(r);
        }
    }

    private sealed class FailingStore : IUsageStore
    {
        public int Calls;
        public ValueTask WriteAsync(IReadOnlyList<UsageRecord> batch, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Calls);
            throw new InvalidOperationException("store is down");
        }
    }

    private static UsageRecord Record(int i) => new(DateTimeOffset.UnixEpoch, "group", "dep-" + i, "openai", "gpt", i, 1, 0, 0, 0.5m, false, 1, null);

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++) await Task.Delay(10);
        Assert.True(condition());
    }

    [Fact]
    public async Task A_sink_without_stores_is_inactive_and_keeps_nothing()
    {
        await using var sink = new UsageSink([]);
        Assert.False(sink.IsActive);
        for (var i = 0; i < 100; i++) sink.Publish(Record(i));
        Assert.Equal(0, sink.Written);
        Assert.Equal(0, sink.Dropped);
    }

    [Fact]
    public async Task Records_published_together_reach_the_store_in_one_batch_in_order()
    {
        var store = new RecordingStore();
        await using var sink = new UsageSink([store], flushInterval: TimeSpan.FromMilliseconds(200));
        Assert.True(sink.IsActive);
        for (var i = 0; i < 50; i++) sink.Publish(Record(i));

        await WaitUntil(() => sink.Written == 50);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => "dep-" + i), store.Records.Select(r => r.DeploymentId));
        // Published within one flush interval: gathered rather than written one by one.
        Assert.Equal([50], store.BatchSizes);
    }

    [Fact]
    public async Task A_full_channel_drops_the_oldest_records_and_counts_them()
    {
        var store = new RecordingStore { Blocking = true };
        await using var sink = new UsageSink([store], capacity: 10, flushInterval: TimeSpan.Zero);
        sink.Publish(Record(0));
        // The drain takes the first record and blocks in the store; the channel then holds at most 10.
        await WaitUntil(() => !store.Gate.Task.IsCompleted && sink.Written == 0);
        await Task.Delay(50);
        for (var i = 1; i <= 30; i++) sink.Publish(Record(i));
        store.Gate.SetResult();

        await WaitUntil(() => sink.Written + sink.Dropped == 31);
        Assert.True(sink.Dropped >= 20, $"dropped {sink.Dropped}");
        // The newest records survive.
        Assert.Equal("dep-30", store.Records.Last().DeploymentId);
    }

    [Fact]
    public async Task A_failing_store_does_not_stop_the_others()
    {
        var failing = new FailingStore();
        var store = new RecordingStore();
        await using var sink = new UsageSink([failing, store], flushInterval: TimeSpan.Zero);
        sink.Publish(Record(1));
        await WaitUntil(() => sink.Written == 1);
        sink.Publish(Record(2));
        await WaitUntil(() => sink.Written == 2);
        Assert.Equal(["dep-1", "dep-2"], store.Records.Select(r => r.DeploymentId));
        Assert.True(failing.Calls >= 2);
    }

    [Fact]
    public async Task Dispose_writes_what_is_still_queued()
    {
        var store = new RecordingStore();
        var sink = new UsageSink([store], flushInterval: TimeSpan.FromSeconds(1));
        for (var i = 0; i < 5; i++) sink.Publish(Record(i));
        await sink.DisposeAsync();
        Assert.Equal(5, store.Records.Count);
    }

    [Fact]
    public async Task A_store_registered_with_the_library_receives_each_call_with_its_tokens_and_cost()
    {
        await using var upstream = await OpenAIEmulator.StartNewAsync();
        upstream.Enqueue(new OpenAIScript { Content = "one", PromptTokens = 1000, CompletionTokens = 500 });
        upstream.Enqueue(new OpenAIScript { Content = "two", PromptTokens = 10, CompletionTokens = 5 });
        var store = new RecordingStore();
        await using var sp = LibraryHost.Build(
            b => b.AddDeployment("gpt-usage", "openai/gpt-4o-mini", upstream.ApiBase, "sk-usage"),
            s => s.AddSingleton<IUsageStore>(store));
        var client = sp.GetRequiredService<ILlmClient>();

        foreach (var text in new[] { "a", "b" })
        {
            await client.CompleteAsync(new ChatRequest
            {
                Model = "gpt-usage",
                Messages = [new ChatMessage { Role = "user", Content = ChatRequestJson.String(text) }],
            });
        }

        await WaitUntil(() => store.Records.Count == 2);
        var records = store.Records.ToArray();
        Assert.All(records, r => Assert.Equal("gpt-usage", r.ModelGroup));
        Assert.All(records, r => Assert.Equal("openai", r.Provider));
        Assert.Equal([1000L, 10L], records.Select(r => r.PromptTokens));
        Assert.Equal([500L, 5L], records.Select(r => r.CompletionTokens));
        // gpt-4o-mini: $0.15 per 1M input tokens and $0.60 per 1M output tokens (LiteLLM's table).
        Assert.Equal(1000 * 0.15e-6m + 500 * 0.6e-6m, records[0].Cost);
    }
}
