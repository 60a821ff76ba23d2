using System.Diagnostics;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Streaming;
using LLMux.Pipeline.Wire;

namespace LLMux.Pipeline.Context;

/// <summary>
/// Everything about one call, from the inbound body to the usage. Pooled: one instance per in-flight request,
/// reset and reused (see <see cref="LlmContextPool"/>).
/// </summary>
public sealed class LlmContext
{
    private readonly List<string> _warnings = [];
    private readonly List<string> _droppedParams = [];
    private readonly List<(Action<LlmContext, object?> Callback, object? State)> _onCompleted = [];

    /// <summary>Which kind of call this is.</summary>
    public LlmMode Mode { get; set; }
    /// <summary>The protocol the client speaks (decides how streams and errors are written back).</summary>
    public ClientProtocol ClientProtocol { get; set; }
    /// <summary>The raw inbound JSON body (owned by the caller for the duration of the call).</summary>
    public ReadOnlyMemory<byte> Body { get; set; }
    public ChatRequest? Chat { get; set; }
    public EmbeddingRequest? Embedding { get; set; }
    /// <summary>A completion, rerank, moderation, image or audio request, validated at its endpoint.</summary>
    public ModeRequest? ModeRequest { get; set; }
    /// <summary>The <c>model</c> the client asked for, after the caller's model aliases (<see cref="UseModel"/>).</summary>
    public string? RequestedModel { get; set; }
    /// <summary>The name the client sent when one of the caller's model aliases replaced it; else null.</summary>
    public string? RequestedAlias { get; set; }
    public Deployment? Deployment { get; set; }
    /// <summary>The model group the request resolved to (after aliases); the router picks <see cref="Deployment"/> from it.</summary>
    public string? ModelGroup { get; set; }
    /// <summary>The deployments of <see cref="ModelGroup"/>.</summary>
    public IReadOnlyList<Deployment>? Candidates { get; set; }
    /// <summary>The end user's <c>allowed_model_region</c> (<c>eu</c>, <c>us</c>): routing keeps only deployments there. Null: any.</summary>
    public string? AllowedModelRegion { get; set; }
    /// <summary>
    /// The end user's <c>default_model</c>: where a call goes when its model has no deployment in the allowed region
    /// (set only with <see cref="AllowedModelRegion"/>, and only when the caller may call it).
    /// </summary>
    public string? RegionDefaultModel { get; set; }
    /// <summary>Fallback groups tried after the first group failed.</summary>
    public int Fallbacks { get; set; }
    public LlmProvider? Provider => Deployment?.Provider;
    public bool IsStream { get; set; }
    /// <summary>Effective drop_params for this call (request, deployment, or litellm_settings).</summary>
    public bool DropParams { get; set; }
    /// <summary>Parameters removed because drop_params allowed it; reported in <c>x-llmux-warnings</c>.</summary>
    public IReadOnlyList<string> DroppedParams => _droppedParams;
    public IReadOnlyList<string> Warnings => _warnings;
    /// <summary>/v1/messages to an upstream that speaks the Messages API: the client's body goes upstream as it is
    /// (only <c>model</c> rewritten) and the answer and frames come back untranslated.</summary>
    public bool MessagesPassthrough { get; set; }
    /// <summary>Client headers a passthrough forwards (anthropic-version, anthropic-beta).</summary>
    public List<KeyValuePair<string, string>> ForwardHeaders { get; } = [];
    /// <summary>True when the stream should ask the upstream for usage the client did not ask for (accounting).</summary>
    public bool InjectedIncludeUsage { get; set; }

    public HttpRequestMessage? UpstreamRequest { get; set; }
    public HttpResponseMessage? UpstreamResponse { get; set; }
    /// <summary>The non-stream answer in the client's wire format.</summary>
    public PooledBuffer? ResponseBody { get; set; }
    /// <summary>The running stream, when <see cref="IsStream"/>.</summary>
    public StreamPump? Stream { get; set; }
    /// <summary>
    /// Optional decorator around the provider's stream translator, for an inbound protocol that is not OpenAI
    /// (the <c>/v1/messages</c> endpoint turns OpenAI chunks into Anthropic events). Null leaves it as it is.
    /// </summary>
    public Func<StreamTranslator, LlmContext, StreamTranslator>? StreamTranslatorDecorator { get; set; }
    /// <summary>Extra response headers to send (e.g. upstream rate-limit headers).</summary>
    public List<KeyValuePair<string, string>> ResponseHeaders { get; } = [];

    public Usage? Usage { get; set; }
    /// <summary>Prices a usage for the chosen deployment (set by the accounting stage); stream writers put the cost in the usage chunk.</summary>
    public Func<Deployment, Usage, decimal?>? Pricing { get; set; }

    /// <summary>The USD cost of <paramref name="usage"/> on this call's deployment, when its price is known.</summary>
    public decimal? PriceOf(Usage usage) => Deployment is { } d && Pricing is { } price ? price(d, usage) : null;
    /// <summary>USD cost of this call, when the price is known.</summary>
    public decimal? Cost { get; set; }
    public int Attempts { get; set; }

    public CancellationToken RequestAborted { get; set; }
    /// <summary>Cancels the upstream call on client abort or timeout; started by the send stage (<see cref="StartUpstreamCancellation"/>), released at reset.</summary>
    public CancellationTokenSource? UpstreamCancellation { get; private set; }

    private CancellationTokenSource? _spareCancellation;
    private CancellationTokenRegistration _abortRegistration;
    private bool _reusableCancellation;

    /// <summary>
    /// A cancellation source for one upstream attempt that follows <see cref="RequestAborted"/>. The pooled context keeps
    /// an uncancelled source for its next request (<see cref="CancellationTokenSource.TryReset"/>), so a request pays
    /// neither a linked source, nor a timer, nor the handler's registration table anew (YARP pools its sources the same way).
    /// </summary>
    /// <param name="reusable">False when something outside the source (a timer on another clock) may still cancel it later.</param>
    public CancellationTokenSource StartUpstreamCancellation(bool reusable = true)
    {
        ReleaseUpstreamCancellation();
        _reusableCancellation = reusable;
        var cts = _spareCancellation is { } spare && spare.TryReset() ? spare : new CancellationTokenSource();
        if (!ReferenceEquals(cts, _spareCancellation)) _spareCancellation?.Dispose();
        _spareCancellation = null;
        _abortRegistration = RequestAborted.UnsafeRegister(static s => Cancel((CancellationTokenSource)s!), cts);
        UpstreamCancellation = cts;
        return cts;
    }

    private static void Cancel(CancellationTokenSource cts)
    {
        try { cts.Cancel(); } catch (ObjectDisposedException) { }
    }

    /// <summary>Unlinks the attempt's source from the client's token; keeps it for reuse unless it fired.</summary>
    private void ReleaseUpstreamCancellation()
    {
        // Dispose waits for a running callback, so the source is never cancelled after it has been handed on.
        _abortRegistration.Dispose();
        _abortRegistration = default;
        if (UpstreamCancellation is not { } cts) return;
        UpstreamCancellation = null;
        if (_reusableCancellation && _spareCancellation is null && !cts.IsCancellationRequested) _spareCancellation = cts;
        else cts.Dispose();
    }
    /// <summary>A timeout the caller set for this request (<c>timeout</c> in the body, or <c>x-litellm-timeout</c>); wins over the deployment's.</summary>
    public TimeSpan? RequestTimeout { get; set; }
    /// <summary>The timeout in force for the upstream call, for error messages.</summary>
    public TimeSpan? UpstreamTimeout { get; set; }
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
    /// <summary>The authenticated caller (virtual key, team, user), set by the host before the pipeline runs.</summary>
    public Caller? Caller { get; set; }

    /// <summary>
    /// Sets <see cref="RequestedModel"/> from the name the client sent, through the caller's model aliases (a key's
    /// <c>aliases</c>, its team's <c>model_aliases</c>) — once, where an endpoint first reads the model, so that routing,
    /// access checks and budgets all see the model the alias names. Returns the name to route.
    /// </summary>
    public string UseModel(string model)
    {
        if (RequestedAlias is null && Caller?.ModelAliases is { } aliases && aliases.TryGetValue(model, out var target))
        {
            RequestedAlias = model;
            model = target;
        }
        else if (RequestedAlias is not null && string.Equals(model, RequestedAlias, StringComparison.Ordinal))
        {
            // Set again with the name the client sent (an endpoint and then the validate stage): the alias stands.
            model = RequestedModel ?? model;
        }
        RequestedModel = model;
        return model;
    }

    /// <summary>The inbound <c>Cache-Control</c> header (the response cache reads no-cache, no-store, max-age).</summary>
    public string? CacheControl { get; set; }

    /// <summary>The answer came from the response cache (no upstream call; spend logs mark it <c>cache_hit</c>).</summary>
    public bool CacheHit { get; set; }

    /// <summary>Stopwatch timestamp when LLMux received the request.</summary>
    public long StartedAt { get; set; }
    /// <summary>Stopwatch ticks spent waiting for the upstream (send to headers, and reading the body).</summary>
    public long UpstreamTicks { get; set; }

    public void AddDroppedParam(string param) { _droppedParams.Add(param); }

    /// <summary>True when <paramref name="param"/> was dropped for this call; request writers leave it out.</summary>
    public bool IsDropped(string param)
    {
        foreach (var p in _droppedParams) if (p == param) return true;
        return false;
    }
    public void AddWarning(string warning) { _warnings.Add(warning); }

    /// <summary>
    /// Parameters an inbound adapter derived from client hints (<c>/v1/messages</c>: <c>thinking</c> →
    /// <c>reasoning_effort</c>, <c>service_tier</c>...): a provider that lacks one drops it with a warning
    /// instead of refusing the call, whatever drop_params says.
    /// </summary>
    public IReadOnlyList<string>? HintParams { get; set; }

    /// <summary>True when <paramref name="param"/> is one of <see cref="HintParams"/>.</summary>
    public bool IsHint(string param)
    {
        if (HintParams is not { } hints) return false;
        for (var i = 0; i < hints.Count; i++) if (hints[i] == param) return true;
        return false;
    }

    /// <summary>Microseconds spent inside LLMux so far, upstream time excluded.</summary>
    public long OverheadMicroseconds()
    {
        var total = Stopwatch.GetTimestamp() - StartedAt;
        var own = total - UpstreamTicks;
        if (own < 0) own = 0;
        return own * 1_000_000 / Stopwatch.Frequency;
    }

    public string? ProviderName => Deployment?.ProviderName;

    /// <summary>Registers work to run once the client has the whole answer (or the call failed): releasing
    /// admission, recording usage. Runs before the context is reused.</summary>
    public void OnCompleted(Action<LlmContext, object?> callback, object? state) => _onCompleted.Add((callback, state));

    /// <summary>Runs the completion callbacks once, in registration order.</summary>
    public void RunCompleted()
    {
        for (var i = 0; i < _onCompleted.Count; i++)
        {
            var (callback, state) = _onCompleted[i];
            callback(this, state);
        }
        _onCompleted.Clear();
    }

    /// <summary>Clears what one upstream attempt produced, so the router can try again or elsewhere.</summary>
    public void ResetAttempt()
    {
        _droppedParams.Clear();
        InjectedIncludeUsage = false;
        UpstreamRequest?.Dispose();
        UpstreamRequest = null;
        UpstreamResponse?.Dispose();
        UpstreamResponse = null;
        ResponseBody?.Dispose();
        ResponseBody = null;
        Stream = null;
        ResponseHeaders.Clear();
        Usage = null;
        Cost = null;
        ReleaseUpstreamCancellation();
        UpstreamTimeout = null;
    }

    internal void Reset()
    {
        RunCompleted();
        Mode = default;
        ClientProtocol = default;
        Body = default;
        Chat = null;
        Embedding = null;
        ModeRequest = null;
        RequestedModel = null;
        RequestedAlias = null;
        Deployment = null;
        ModelGroup = null;
        Candidates = null;
        AllowedModelRegion = null;
        RegionDefaultModel = null;
        Fallbacks = 0;
        IsStream = false;
        DropParams = false;
        _droppedParams.Clear();
        _warnings.Clear();
        HintParams = null;
        InjectedIncludeUsage = false;
        MessagesPassthrough = false;
        ForwardHeaders.Clear();
        UpstreamRequest?.Dispose();
        UpstreamRequest = null;
        UpstreamResponse?.Dispose();
        UpstreamResponse = null;
        ResponseBody?.Dispose();
        ResponseBody = null;
        Stream = null;
        StreamTranslatorDecorator = null;
        ResponseHeaders.Clear();
        Usage = null;
        Pricing = null;
        Cost = null;
        Attempts = 0;
        RequestAborted = default;
        RequestTimeout = null;
        ReleaseUpstreamCancellation();
        UpstreamTimeout = null;
        TimeProvider = TimeProvider.System;
        Caller = null;
        CacheControl = null;
        CacheHit = false;
        StartedAt = 0;
        UpstreamTicks = 0;
    }
}

/// <summary>The wire protocol of the inbound request.</summary>
public enum ClientProtocol
{
    OpenAI,
    Anthropic,
}
