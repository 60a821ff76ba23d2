using System.Buffers;
using System.Text.Json;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Composition;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Streaming;

namespace LLMux.Stages.Caching;

/// <summary>
/// The response cache as one stage, after authentication and limits and before routing (as LiteLLM looks up after its
/// auth, budget and rate checks). A hit answers without an upstream call: the stored JSON body, or the stored stream
/// frames replayed through the same decorators (/v1/messages, /v1/responses) with their original boundaries; cost 0,
/// the saved cost counted. A miss calls on and stores a successful JSON answer, or a stream once it ended cleanly.
/// Embeddings are cached per input (<see cref="CachedEmbeddings"/>). Headers: <c>x-litellm-cache-key</c>,
/// <c>x-llmux-cache: hit | miss | bypass</c>. The host adds this stage only when <c>litellm_settings.cache</c> is on.
/// </summary>
public sealed class CacheStage(CacheSettings settings, ICacheStore store) : ILlmStage
{
    private static readonly Action<LlmContext, object?> StoreStream = static (context, state) => ((PendingStream)state!).Store(context);

    public async ValueTask InvokeAsync(LlmContext context, StageDelegate next)
    {
        if (!settings.Modes.Contains(context.Mode) || context.Body.IsEmpty)
        {
            await next(context).ConfigureAwait(false);
            return;
        }
        string key;
        CacheControls controls;
        JsonDocument parsed;
        try
        {
            parsed = JsonDocument.Parse(context.Body);
        }
        catch (JsonException)
        {
            // A body no stage has validated yet (a native passthrough): the provider's own validation answers it.
            await next(context).ConfigureAwait(false);
            return;
        }
        using (var doc = parsed)
        {
            var root = doc.RootElement;
            // A native background response answers "queued"; that is no answer to keep.
            if (context.Mode == LlmMode.Responses && root.TryGetProperty("background", out var bg) && bg.ValueKind == JsonValueKind.True)
            {
                await next(context).ConfigureAwait(false);
                return;
            }
            controls = CacheControls.Read(root, context.CacheControl, context.Caller?.AllowedCacheControls ?? []);
            if (controls.Ignored is { } ignored) context.AddWarning($"Cache-Control {ignored} ignored: not in this key's allowed_cache_controls");
            var scope = CacheKeys.Scope(context.Caller, context.RequestedModel, settings);
            var prefix = CacheKeys.Prefix(settings, controls.Namespace);
            if (context.Mode == LlmMode.Embeddings && root.TryGetProperty("input", out _))
            {
                await CachedEmbeddings.InvokeAsync(context, next, root, controls, CacheKeys.Digest(context, scope, root, skip: "input"), prefix, settings, store).ConfigureAwait(false);
                return;
            }
            key = CacheKeys.Key(prefix, CacheKeys.Digest(context, scope, root));
        }

        if (controls is { NoCache: true, NoStore: true })
        {
            await next(context).ConfigureAwait(false);
            Answered(context, key, "bypass");
            return;
        }
        if (!controls.NoCache && await Lookup(store, key, controls, context).ConfigureAwait(false) is { } entry && entry.Stream == context.IsStream)
        {
            Hit(context, entry, key);
            return;
        }
        PendingStream? pending = null;
        if (context.IsStream && !controls.NoStore)
        {
            pending = new PendingStream(store, key, controls.Ttl ?? settings.Ttl, settings.MaxBytes);
            var outer = context.StreamTranslatorDecorator;
            context.StreamTranslatorDecorator = pending.Decorator(outer);
        }
        await next(context).ConfigureAwait(false);
        Answered(context, key, controls.NoCache ? "bypass" : "miss");
        if (controls.NoStore) return;
        if (!context.IsStream)
        {
            if (context.ResponseBody is { } body)
                await Save(store, key, new CacheEntry(body.Span.ToArray(), context.TimeProvider.GetUtcNow(), false, context.Cost, null), controls.Ttl ?? settings.Ttl, context.RequestedModel).ConfigureAwait(false);
        }
        else if (pending is not null && context.Stream is not null)
        {
            // After the cost of the stream is known (the accounting callback was registered first) and the client got it all.
            context.OnCompleted(StoreStream, pending);
        }
    }

    /// <summary>The entry under <paramref name="key"/> if it is young enough for the request's max-age; a failing store is a miss.</summary>
    internal static async ValueTask<CacheEntry?> Lookup(ICacheStore store, string key, CacheControls controls, LlmContext context)
    {
        CacheEntry? entry;
        try
        {
            entry = await store.GetAsync(key, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            CacheMetrics.Count("error", context.RequestedModel); // the cache degrades to no cache, never to an error
            Unavailable(context);
            return null;
        }
        if (entry is null) return null;
        if (controls.MaxAge is { } maxAge && context.TimeProvider.GetUtcNow() - entry.StoredAt > maxAge) return null;
        return entry;
    }

    internal const string UnavailableWarning = "response cache unavailable: answered without it";

    /// <summary>Tells the caller once (an embeddings batch looks up each input) that the cache was skipped.</summary>
    private static void Unavailable(LlmContext context)
    {
        var warnings = context.Warnings;
        for (var i = 0; i < warnings.Count; i++) if (ReferenceEquals(warnings[i], UnavailableWarning)) return;
        context.AddWarning(UnavailableWarning);
    }

    internal static async ValueTask Save(ICacheStore store, string key, CacheEntry entry, TimeSpan ttl, string? modelGroup)
    {
        try
        {
            await store.SetAsync(key, entry, ttl, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            CacheMetrics.Count("error", modelGroup);
        }
    }

    private static void Hit(LlmContext context, CacheEntry entry, string key)
    {
        if (entry.Stream)
        {
            StreamTranslator replay = new CachedStreamReplay();
            if (context.StreamTranslatorDecorator is { } decorate) replay = decorate(replay, context);
            context.Stream = StreamPump.Start(new MemoryStream(entry.Payload, writable: false), replay, new StreamPumpOptions { TimeProvider = context.TimeProvider }, "cache", context.RequestAborted);
        }
        else
        {
            var body = new PooledBuffer(entry.Payload.Length);
            body.Write(entry.Payload);
            context.ResponseBody = body;
        }
        Served(context, entry.Cost);
        Answered(context, key, "hit");
    }

    /// <summary>A hit costs nothing; what it would have cost is counted as saved.</summary>
    internal static void Served(LlmContext context, decimal? savedCost)
    {
        context.CacheHit = true;
        context.Cost = 0m;
        if (savedCost is { } saved and > 0) CacheMetrics.Saved(saved, context.RequestedModel);
    }

    internal static void Answered(LlmContext context, string key, string result)
    {
        context.ResponseHeaders.Add(new("x-litellm-cache-key", key));
        context.ResponseHeaders.Add(new("x-llmux-cache", result));
        CacheMetrics.Count(result, context.RequestedModel);
    }

    /// <summary>A stream being recorded on a miss; stored when the request completes, if the upstream ended it cleanly.</summary>
    private sealed class PendingStream(ICacheStore store, string key, TimeSpan ttl, long maxBytes)
    {
        private StreamRecorder? _recorder;

        public Func<StreamTranslator, LlmContext, StreamTranslator> Decorator(Func<StreamTranslator, LlmContext, StreamTranslator>? outer) => (inner, ctx) =>
        {
            // One recorder per attempt: a retried attempt's frames replace the failed one's.
            var recorder = new StreamRecorder(inner, maxBytes);
            _recorder = recorder;
            return outer is null ? recorder : outer(recorder, ctx);
        };

        public void Store(LlmContext context)
        {
            if (context.Stream is { Failure: not null } || _recorder?.Frames is not { } frames) return;
            _ = Save(store, key, new CacheEntry(frames, context.TimeProvider.GetUtcNow(), true, context.Cost, null), ttl, context.RequestedModel);
        }
    }
}
